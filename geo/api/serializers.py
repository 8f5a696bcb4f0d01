import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from geo.analyses.services import result_for_reader
from geo.models import AnalysisKind, AnalysisRun

PARAMETERS_SCHEMA = {
    "type": "object",
    "description": (
        "The analysis's parameters, by kind: hotspots `resolution` (left out or null: "
        "chosen from the data, where Global Moran's I peaks), `rings`; clusters "
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


@extend_schema_field(PARAMETERS_SCHEMA)
class ParametersField(serializers.JSONField):
    pass


@extend_schema_field(FILTER_SCHEMA)
class IncidentFilterField(serializers.JSONField):
    """The incident filter: known filter names, each a string or a list of strings."""

    def to_internal_value(self, data):
        from geo.analyses.services import PRESENTATION_KEYS
        from incidents.filtersets import IncidentFilterSet

        data = super().to_internal_value(data)
        if not isinstance(data, dict):
            raise serializers.ValidationError(_("Give the filter as an object."))
        filters = IncidentFilterSet.base_filters
        for name, value in data.items():
            if name not in filters and name not in PRESENTATION_KEYS:
                raise serializers.ValidationError(_("Unknown filter: %(name)s.") % {"name": name})
            # As the schema says (armsmonitor.openapi.document_analysis_filter): a list
            # only for the filters that take several values, and no empty value (to set no
            # filter, leave it out).
            several = isinstance(filters.get(name), django_filters.MultipleChoiceFilter)
            values = value if isinstance(value, list) and several else [value]
            if not all(isinstance(item, str) and item for item in values):
                message = (
                    _("Give %(name)s as a string or a list of strings, none empty.")
                    if several
                    else _("Give %(name)s as a string, not empty.")
                )
                raise serializers.ValidationError(message % {"name": name})
        return data


@extend_schema_serializer(component_name="AnalysisStart")
class AnalysisRequestSerializer(serializers.Serializer):
    """What a client sends to start an analysis. The parameters and the filter are checked
    by the service, which names the faulty field (`parameters.resolution`, `filter.kind`)."""

    kind = serializers.ChoiceField(choices=AnalysisKind.choices)
    parameters = ParametersField(required=False, default=dict)
    filter = IncidentFilterField(required=False, default=dict)


class AnalysisRunSerializer(serializers.ModelSerializer):
    filter = serializers.JSONField(source="incident_filter", read_only=True)
    # A scheduled run has a mission and no requester; a requested run, the reverse.
    requested_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    mission = serializers.SlugRelatedField(slug_field="acronym", read_only=True, allow_null=True)
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)
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
        from geo.analyses.services import run_is_stale

        return run_is_stale(run) if run.state == AnalysisRun.State.DONE else None
