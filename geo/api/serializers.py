from rest_framework import serializers

from geo.models import AnalysisKind, AnalysisRun
from geo.services import result_for_reader


class AnalysisRequestSerializer(serializers.Serializer):
    """What a client sends to start an analysis. The parameters and the filter are checked
    by the service, which names the faulty field (`parameters.resolution`, `filter.kind`)."""

    kind = serializers.ChoiceField(choices=AnalysisKind.choices)
    parameters = serializers.JSONField(required=False, default=dict)
    filter = serializers.JSONField(required=False, default=dict)


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
