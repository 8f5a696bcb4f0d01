import rules
from rest_framework import permissions

# The rule each view action needs; object-level rules get the incident as well.
ACTION_RULES = {
    "list": "incidents.list_incidents",
    "retrieve": "incidents.view_incident",
    # Creating for a contingent needs `report_for_contingent` as well: the service checks it.
    "create": "incidents.add_incident",
    "export_csv": "incidents.export_incidents",
    "export_xlsx": "incidents.export_incidents",
    "export_geojson": "incidents.export_incidents",
}


class IncidentPolicy(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        rule = ACTION_RULES.get(view.action)
        return bool(
            request.user
            and request.user.is_authenticated
            and rule
            and (view.action == "retrieve" or rules.has_perm(rule, request.user))
        )

    def has_object_permission(self, request, view, obj) -> bool:
        return rules.has_perm(ACTION_RULES[view.action], request.user, obj)


class RecordsReader(permissions.BasePermission):
    """Lists of the records' items: for whoever may list incidents; which items, the
    incidents' visibility decides."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(
            user and user.is_authenticated and rules.has_perm("incidents.list_incidents", user)
        )
