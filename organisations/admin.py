from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin
from rest_framework_api_key.admin import APIKeyModelAdmin

from organisations.models import (
    Agency,
    AgencyAPIKey,
    APIAccess,
    AuditEvent,
    Contingent,
    Membership,
    Mission,
    SharingAgreement,
    UserPreferences,
)


@admin.register(Mission)
class MissionAdmin(LeafletGeoAdmin):
    list_display = ["acronym", "name", "host_countries"]
    search_fields = ["acronym", "name"]


@admin.register(Contingent)
class ContingentAdmin(LeafletGeoAdmin):
    list_display = ["name", "mission", "contributing_country", "kind"]
    list_filter = ["mission", "kind", "contributing_country"]
    search_fields = ["name", "contributing_country"]


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "country", "is_active"]
    list_filter = ["kind", "is_active", "country"]
    search_fields = ["name"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "mission", "contingent", "agency"]
    list_filter = ["role", "mission", "agency"]
    search_fields = ["user__username", "user__email", "contingent__name", "agency__name"]
    autocomplete_fields = ["user", "mission", "contingent", "agency"]
    filter_horizontal = ["regions"]


@admin.register(SharingAgreement)
class SharingAgreementAdmin(admin.ModelAdmin):
    list_display = [
        "agency",
        "lowest_releasability",
        "valid_from",
        "valid_until",
        "exact_coordinates",
    ]
    list_filter = ["lowest_releasability", "exact_coordinates", "agency"]
    search_fields = ["agency__name"]
    filter_horizontal = ["missions", "regions"]


@admin.register(AgencyAPIKey)
class AgencyAPIKeyAdmin(APIKeyModelAdmin):
    """Shows a new key once, on creation; stores only its hash."""

    list_display = [*APIKeyModelAdmin.list_display, "agency"]
    list_filter = [*APIKeyModelAdmin.list_filter, "agency"]
    search_fields = [*APIKeyModelAdmin.search_fields, "agency__name"]


@admin.register(APIAccess)
class APIAccessAdmin(admin.ModelAdmin):
    list_display = ["at", "agency", "user", "method", "path", "records", "remote_address"]
    list_filter = ["agency", "method"]
    search_fields = ["path", "query", "user__username", "agency__name"]
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail, read-only (the database refuses changes anyway)."""

    list_display = ["at", "kind", "action", "actor", "records", "channel", "remote_address"]
    list_filter = ["kind", "channel", "action"]
    search_fields = ["actor", "action", "path", "object_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(UserPreferences)
class UserPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "language"]
    list_filter = ["language"]
    search_fields = ["user__username"]
