"""Reference data for API clients: country boundaries and regional organisations, the keys
that the incident filters `country` and `region` take. Public facts, read by any caller."""

import json

from django.contrib.gis.db.models.functions import AsGeoJSON
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets

from armsmonitor.openapi import AREA_SCHEMA, DETAIL_ERRORS, READ_ERRORS
from geo.models import Country, Region

# Six decimals of a degree: about 10 cm, finer than any boundary data set loaded here.
GEOJSON_DECIMALS = 6


class CountrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Country
        fields = ["iso3", "name", "source"]
        read_only_fields = fields


class CountryBoundarySerializer(CountrySerializer):
    boundary = serializers.SerializerMethodField()

    class Meta(CountrySerializer.Meta):
        fields = [*CountrySerializer.Meta.fields, "boundary"]
        read_only_fields = fields

    @extend_schema_field(AREA_SCHEMA)
    def get_boundary(self, country: Country) -> dict:
        # Written by PostGIS (AsGeoJSON below); GEOS would rebuild every vertex in Python.
        return json.loads(country.boundary_geojson)


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "kind", "member_countries", "source", "members_as_of"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="Countries with a boundary on record (without the boundary)",
        responses={200: CountrySerializer(many=True), **READ_ERRORS},
    ),
    retrieve=extend_schema(
        summary="One country with its boundary (GeoJSON MultiPolygon)",
        responses={200: CountryBoundarySerializer, **DETAIL_ERRORS},
    ),
)
class CountryBoundaryViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_field = "iso3"
    lookup_value_regex = r"[A-Z]{3}"

    def get_queryset(self):
        if self.action == "retrieve":
            return Country.objects.annotate(
                boundary_geojson=AsGeoJSON("boundary", precision=GEOJSON_DECIMALS)
            ).defer("boundary")
        return Country.objects.defer("boundary")

    def get_serializer_class(self):
        return CountryBoundarySerializer if self.action == "retrieve" else CountrySerializer


@extend_schema_view(
    list=extend_schema(
        summary="Regional organisations and their member states",
        responses={200: RegionSerializer(many=True), **READ_ERRORS},
    ),
    retrieve=extend_schema(
        summary="One regional organisation", responses={200: RegionSerializer, **DETAIL_ERRORS}
    ),
)
class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RegionSerializer
    queryset = Region.objects.all()
    lookup_field = "code"
    lookup_value_regex = r"[-a-z0-9_]+"
