"""Missions and their contingents for API clients: the keys that the incident filters
`mission` (acronym) and `contingent` (id) take."""

import json

from django.contrib.gis.db.models.functions import AsGeoJSON
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets

from armsmonitor.openapi import AREA_SCHEMA, DETAIL_ERRORS, READ_ERRORS
from organisations.models import Contingent, Mission

GEOJSON_DECIMALS = 6


@extend_schema_field({**AREA_SCHEMA, "nullable": True})
class AreaField(serializers.Field):
    """An area written as GeoJSON by PostGIS (an annotation named by `source`): GEOS would
    rebuild every vertex in Python. No area on record is null."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value):
        return json.loads(value)


class ContingentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contingent
        fields = ["id", "name", "contributing_country", "kind"]
        read_only_fields = fields


class MissionSerializer(serializers.ModelSerializer):
    contingents = ContingentSerializer(many=True, read_only=True)

    class Meta:
        model = Mission
        fields = ["acronym", "name", "host_countries", "contingents"]
        read_only_fields = fields


class MissionAreaSerializer(MissionSerializer):
    area_of_operations = AreaField(source="area_geojson")

    class Meta(MissionSerializer.Meta):
        fields = [*MissionSerializer.Meta.fields, "area_of_operations"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="Missions and their contingents",
        responses={200: MissionSerializer(many=True), **READ_ERRORS},
    ),
    retrieve=extend_schema(
        summary="One mission with its area of operations (GeoJSON MultiPolygon)",
        responses={200: MissionAreaSerializer, **DETAIL_ERRORS},
    ),
)
class MissionViewSet(viewsets.ReadOnlyModelViewSet):
    """Missions are public facts (mandated by the Security Council or a regional body);
    what each has on record is the incidents' access policy's to decide."""

    lookup_field = "acronym"
    lookup_value_regex = r"[-A-Za-z0-9_]+"

    def get_queryset(self):
        missions = Mission.objects.prefetch_related("contingents").defer("area_of_operations")
        if self.action == "retrieve":
            missions = missions.annotate(
                area_geojson=AsGeoJSON("area_of_operations", precision=GEOJSON_DECIMALS)
            )
        return missions

    def get_serializer_class(self):
        return MissionAreaSerializer if self.action == "retrieve" else MissionSerializer
