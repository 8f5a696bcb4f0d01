from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from armsmonitor.openapi import POINT_SCHEMA
from incidents.models import Incident


@extend_schema_field(POINT_SCHEMA)
class ShownLocationField(serializers.Field):
    """The location a reader may see (from `visible_to`), as a GeoJSON point."""

    def __init__(self, **kwargs):
        super().__init__(source="shown_location", read_only=True, **kwargs)

    def to_representation(self, value):
        return {"type": "Point", "coordinates": [round(value.x, 6), round(value.y, 6)]}


class IncidentSerializer(serializers.ModelSerializer):
    location = ShownLocationField()
    location_is_exact = serializers.BooleanField(read_only=True)
    mission = serializers.SlugRelatedField(slug_field="acronym", read_only=True)
    contingent = serializers.StringRelatedField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "kind",
            "occurred_at",
            "location",
            "location_is_exact",
            "location_precision",
            "country",
            "context",
            "mission",
            "contingent",
            "releasability",
            "state",
            "updated_at",
        ]
        read_only_fields = fields
