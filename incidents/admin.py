from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from incidents.models import IllicitOrigin, Incident, TraceRequest, WeaponItem
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


@admin.register(TraceRequest)
class TraceRequestAdmin(admin.ModelAdmin):
    list_display = ["id", "weapon", "addressee", "sent_on", "status", "diversion_established"]
    list_filter = ["status", "diversion_established", "diversion_country"]
    search_fields = ["weapon__serial_number", "addressee"]
    raw_id_fields = ["weapon"]


@admin.register(IllicitOrigin)
class IllicitOriginAdmin(LeafletGeoAdmin):
    list_display = ["id", "weapon", "kind", "method", "diversion_country", "established_on"]
    list_filter = ["kind", "method", "diversion_country"]
    search_fields = ["weapon__serial_number", "established_by"]
    raw_id_fields = ["weapon", "trace"]
