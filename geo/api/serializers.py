from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from geo.models import AnalysisKind, AnalysisRun
from geo.services import result_for_reader

PARAMETERS_SCHEMA = {
    "type": "object",
    "description": (
        "The analysis's parameters, by kind: hotspots `resolution`, `rings`; clusters "
        "`distance_m`, `min_incidents`; … Unknown or bad values get 400 naming "
        "`parameters.<name>`."
    ),
    "additionalProperties": True,
    "example": {"resolution": 5, "rings": 3},
}
FILTER_SCHEMA = {
    "type": "object",
    "description": (
        "The incidents to read, with the parameters of the incident list (`kind`, "
        "`occurred_after`, `bbox`, `region`, …): each a string or a list of strings. Bad "
        "values get 400 naming `filter.<name>`."
    ),
    "additionalProperties": {
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
    },
    "example": {"kind": ["cache_discovery"], "occurred_after": "2025-01-01T00:00:00Z"},
}


@extend_schema_serializer(component_name="AnalysisStart")
class AnalysisRequestSerializer(serializers.Serializer):
    """What a client sends to start an analysis. The parameters and the filter are checked
    by the service, which names the faulty field (`parameters.resolution`, `filter.kind`)."""

    kind = serializers.ChoiceField(choices=AnalysisKind.choices)
    parameters = extend_schema_field(PARAMETERS_SCHEMA)(
        serializers.JSONField(required=False, default=dict)
    )
    filter = extend_schema_field(FILTER_SCHEMA)(serializers.JSONField(required=False, default=dict))


class AnalysisRunSerializer(serializers.ModelSerializer):
    filter = serializers.JSONField(source="incident_filter", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    mission = serializers.SlugRelatedField(slug_field="acronym", read_only=True)
    duration_seconds = serializers.FloatField(read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="analysis-detail")

    class Meta:
        model = AnalysisRun
        fields = [
            "id",
            "url",
            "kind",
            "parameters",
            "filter",
            "state",
            "progress",
            "error",
            "requested_by",
            "mission",
            "incidents_read",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "duration_seconds",
        ]
        read_only_fields = fields


class AnalysisRunResultSerializer(AnalysisRunSerializer):
    """One run with its result, as the reader may see it, and whether it is stale."""

    result = serializers.SerializerMethodField()
    stale = serializers.SerializerMethodField()

    class Meta(AnalysisRunSerializer.Meta):
        fields = [*AnalysisRunSerializer.Meta.fields, "stale", "result"]
        read_only_fields = fields

    def get_result(self, run: AnalysisRun) -> dict | None:
        return result_for_reader(run, self.context["request"].user)

    def get_stale(self, run: AnalysisRun) -> bool | None:
        from geo.services import run_is_stale

        return run_is_stale(run) if run.state == AnalysisRun.State.DONE else None
