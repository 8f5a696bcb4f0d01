from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from geo.models import Country, Region


@admin.register(Country)
class CountryAdmin(LeafletGeoAdmin):
    list_display = ["iso3", "name", "source"]
    search_fields = ["iso3", "name"]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "member_countries"]
    search_fields = ["code", "name"]
