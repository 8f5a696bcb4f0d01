"""The parameters each kind of analysis accepts, as forms: the browser renders them, and
the service validates API requests with them, so errors always name the field.

A parameter left out takes the default of the kind's Parameters dataclass.
"""

import dataclasses

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from geo.analyses.clusters import ClusterParameters
from geo.analyses.density import DensityParameters
from geo.analyses.emerging import EmergingParameters
from geo.analyses.flows import PERIODS as FLOW_PERIODS
from geo.analyses.flows import FlowParameters
from geo.analyses.hotspots import HotspotParameters
from geo.analyses.linkage import LinkageParameters
from geo.analyses.trends import PERIODS, TrendParameters

PERIOD_CHOICES = [(period, period) for period in PERIODS]


class ParametersForm(forms.Form):
    """A form whose cleaned data build the dataclass `parameters_class`."""

    parameters_class: type

    def __init__(self, data=None, **kwargs):
        defaults = dataclasses.asdict(self.parameters_class())
        super().__init__(data, initial=defaults, **kwargs)
        for name, field in self.fields.items():
            field.required = False
            field.initial = defaults[name]
        self._defaults = defaults

    def clean(self):
        cleaned = super().clean()
        for name, default in self._defaults.items():
            if cleaned.get(name) in (None, ""):
                cleaned[name] = default
        return cleaned

    def parameters(self):
        """The validated parameters (call after is_valid())."""
        return self.parameters_class(**{name: self.cleaned_data[name] for name in self._defaults})


class HotspotParametersForm(ParametersForm):
    parameters_class = HotspotParameters
    resolution = forms.IntegerField(
        label=_("Hexagon resolution (H3)"),
        min_value=3,
        max_value=9,
        help_text=_(
            "Empty: chosen from the data (where Moran's I peaks). 5: hexagons of about"
            " 250 km²; 6: 36 km²; 7: 5 km²; 8: 0.7 km²; 9: 0.1 km²."
        ),
    )
    rings = forms.IntegerField(
        label=_("Neighbourhood (rings of hexagons)"), min_value=1, max_value=5
    )
    measure = forms.ChoiceField(
        label=_("Count"),
        choices=[("incidents", _("incidents")), ("weapons", _("weapons"))],
    )
    permutations = forms.IntegerField(
        label=_("Permutations (0: analytic p-values)"), min_value=0, max_value=9999
    )
    # Null-able, so that a parameter left out takes its default (True), not False.
    fdr = forms.NullBooleanField(label=_("False discovery rate correction"))


class ClusterParametersForm(ParametersForm):
    parameters_class = ClusterParameters
    distance_m = forms.FloatField(label=_("Distance (metres)"), min_value=10, max_value=100_000)
    min_incidents = forms.IntegerField(
        label=_("Fewest incidents in a cluster"), min_value=2, max_value=10_000
    )


class DensityParametersForm(ParametersForm):
    parameters_class = DensityParameters
    cell_size_m = forms.FloatField(label=_("Cell size (metres)"), min_value=100, max_value=50_000)
    bandwidth_m = forms.FloatField(label=_("Bandwidth (metres)"), min_value=100, max_value=500_000)


class TrendParametersForm(ParametersForm):
    parameters_class = TrendParameters
    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES)


class EmergingParametersForm(ParametersForm):
    parameters_class = EmergingParameters
    resolution = forms.IntegerField(
        label=_("Hexagon resolution (H3)"),
        min_value=3,
        max_value=8,
        help_text=_("7: hexagons of about 5 km²; 6: 36 km²; 5: 250 km²; 8: 0.7 km²."),
    )
    rings = HotspotParametersForm.base_fields["rings"]
    period = forms.ChoiceField(label=_("Time step"), choices=PERIOD_CHOICES)
    steps = forms.IntegerField(
        label=_("Number of time steps"),
        min_value=4,
        max_value=60,
        help_text=_("Esri recommends at least 10 for a trend test."),
    )


class RegionCodesField(forms.Field):
    """Regional organisations by code: a list (API) or comma-separated text (browser)."""

    def to_python(self, value) -> tuple[str, ...]:
        if value in (None, "", []):
            return ()
        codes = value.split(",") if isinstance(value, str) else value
        if not isinstance(codes, list | tuple) or not all(isinstance(c, str) for c in codes):
            raise ValidationError(_("Give region codes as a list or separated by commas."))
        return tuple(code.strip() for code in codes if code.strip())

    def validate(self, value: tuple[str, ...]) -> None:
        from geo.models import Region

        unknown = sorted(
            set(value) - set(Region.objects.filter(code__in=value).values_list("code", flat=True))
        )
        if unknown:
            raise ValidationError(
                _("Unknown region codes: %(codes)s.") % {"codes": ", ".join(unknown)}
            )


class FlowParametersForm(ParametersForm):
    parameters_class = FlowParameters
    period = forms.ChoiceField(
        label=_("Period"), choices=[(period, period) for period in FLOW_PERIODS]
    )
    region_codes = RegionCodesField(
        label=_("Regions, in order of preference"),
        help_text=_("Codes such as eccas, ecowas, au; empty: every region, smallest first."),
    )


class LinkageParametersForm(ParametersForm):
    parameters_class = LinkageParameters
    max_serial_gap = forms.IntegerField(
        label=_("Largest gap between serial numbers"), min_value=0, max_value=100_000
    )
    min_items = forms.IntegerField(label=_("Fewest items in a batch"), min_value=2, max_value=1000)
    min_distance_km = forms.FloatField(
        label=_("Places at least this far apart (km)"), min_value=0, max_value=5000
    )
    min_serial_digits = forms.IntegerField(
        label=_("Fewest digits in a serial number"), min_value=1, max_value=20
    )
    max_batches = forms.IntegerField(label=_("Batches listed"), min_value=1, max_value=5000)
