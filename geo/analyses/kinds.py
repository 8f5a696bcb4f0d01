"""Which function runs each kind of analysis, with which parameters."""

from collections.abc import Callable
from dataclasses import dataclass

from geo.analyses import clusters, density, emerging, flows, hotspots, linkage, trends
from geo.analyses.parameters import (
    ClusterParametersForm,
    DensityParametersForm,
    EmergingParametersForm,
    FlowParametersForm,
    HotspotParametersForm,
    LinkageParametersForm,
    ParametersForm,
    TrendParametersForm,
)
from geo.models import AnalysisKind


@dataclass(frozen=True)
class AnalysisSpec:
    analyse: Callable
    parameters_form: type[ParametersForm]
    # Whether `analyse` takes `chosen_by` (geo.analyses.source.IncidentChoice) to read
    # counts the database keeps where they answer the filter.
    reads_kept_counts: bool = False


ANALYSES: dict[str, AnalysisSpec] = {
    AnalysisKind.HOTSPOTS: AnalysisSpec(hotspots.analyse, HotspotParametersForm),
    AnalysisKind.EMERGING_HOTSPOTS: AnalysisSpec(emerging.analyse, EmergingParametersForm),
    AnalysisKind.CLUSTERS: AnalysisSpec(clusters.analyse, ClusterParametersForm),
    AnalysisKind.DENSITY: AnalysisSpec(density.analyse, DensityParametersForm),
    AnalysisKind.FLOWS: AnalysisSpec(flows.analyse, FlowParametersForm, reads_kept_counts=True),
    AnalysisKind.SERIAL_BATCHES: AnalysisSpec(linkage.analyse, LinkageParametersForm),
    AnalysisKind.TRENDS: AnalysisSpec(trends.analyse, TrendParametersForm),
}
