from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin
from simple_history.admin import SimpleHistoryAdmin

from incidents.models import (
    IllicitOrigin,
    Incident,
    Manufacturer,
    ManufacturerAlias,
    TraceRequest,
    WeaponItem,
)
from incidents.services import h3_cell_of, incidents_assign_geography


class WeaponItemInline(admin.TabularInline):
    model = WeaponItem
    extra = 0


@admin.register(Incident)
class IncidentAdmin(LeafletGeoAdmin):
    list_display = ["id", "kind", "occurred_at", "mission", "contingent", "state", "releasability"]
    list_filter = ["state", "kind", "context", "releasability", "mission"]
    search_fields = ["narrative", "actors", "contingent__name"]
    date_hierarchy = "occurred_at"
    list_select_related = ["mission", "contingent__mission"]
    inlines = [WeaponItemInline]
    readonly_fields = ["country", "admin_area", "nearest_place", "h3_cell"]

    def has_delete_permission(self, request, obj=None) -> bool:
        # Records are withdrawn with a reason (incidents.services), never deleted: a deleted
        # record would vanish from agencies' copies without incremental sync learning of it.
        return False

    def save_model(self, request, obj, form, change):
        # The admin saves outside the workflow services, yet what is derived from the point
        # must follow it here too.
        obj.h3_cell = h3_cell_of(latitude=obj.location.y, longitude=obj.location.x)
        super().save_model(request, obj, form, change)
        incidents_assign_geography(incident_ids=[obj.pk])


@admin.register(WeaponItem)
class WeaponItemAdmin(admin.ModelAdmin):
    list_display = ["id", "category", "make", "model", "serial_number", "incident"]
    list_filter = ["category", "markings_altered", "country_of_manufacture"]
    search_fields = ["serial_number", "make", "model"]
    raw_id_fields = ["incident"]


class ManufacturerAliasInline(admin.TabularInline):
    model = ManufacturerAlias
    fields = ["spelling"]
    extra = 1


@admin.register(Manufacturer)
class ManufacturerAdmin(admin.ModelAdmin):
    """The controlled list of manufacturers (incidents/manufacturers.py): an alias added
    here names the manufacturer of every weapon on record written that way."""

    list_display = ["name", "country"]
    list_filter = ["country"]
    search_fields = ["name", "aliases__spelling"]
    inlines = [ManufacturerAliasInline]


@admin.register(TraceRequest)
class TraceRequestAdmin(SimpleHistoryAdmin):
    list_display = [
        "id",
        "weapon",
        "addressee",
        "sent_on",
        "response_due_on",
        "status",
        "failure_reason",
        "urgency",
        "diversion_established",
    ]
    list_filter = [
        "status",
        "failure_reason",
        "urgency",
        "confidentiality",
        "diversion_established",
        "diversion_country",
    ]
    search_fields = ["weapon__serial_number", "serial_number_sent", "addressee", "reference"]
    raw_id_fields = ["weapon", "follows"]
    filter_horizontal = ["photos_sent"]
    fieldsets = [
        (None, {"fields": ["weapon", "follows", "reference", "status"]}),
        (
            _("Addressee and points of contact"),
            {
                "fields": [
                    "addressee",
                    "addressee_country",
                    "addressee_contact_organisation",
                    "addressee_contact_name",
                    "addressee_contact_email",
                    "addressee_contact_phone",
                    "requester_contact_organisation",
                    "requester_contact_name",
                    "requester_contact_email",
                    "requester_contact_phone",
                ]
            },
        ),
        (
            _("The request"),
            {
                "fields": [
                    "illicit_nature",
                    "legal_basis",
                    "intended_use",
                    "confidentiality",
                    "urgency",
                    "serial_number_sent",
                    "component_serials",
                    "photos_sent",
                ]
            },
        ),
        (
            _("Dates"),
            {
                "fields": [
                    "sent_on",
                    "response_due_on",
                    "acknowledged_on",
                    "reminder_sent_on",
                    "answered_on",
                ]
            },
        ),
        (
            _("The answer"),
            {
                "fields": [
                    "failure_reason",
                    "failure_detail",
                    "forwarded_to",
                    "diversion_established",
                    "diversion_country",
                    "diversion_point",
                    "last_legal_end_user",
                    "transit_countries",
                ]
            },
        ),
    ]


@admin.register(IllicitOrigin)
class IllicitOriginAdmin(LeafletGeoAdmin):
    list_display = ["id", "weapon", "kind", "method", "diversion_country", "established_on"]
    list_filter = ["kind", "method", "diversion_country"]
    search_fields = ["weapon__serial_number", "established_by"]
    raw_id_fields = ["weapon", "trace"]
