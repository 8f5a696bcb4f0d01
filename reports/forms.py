from django import forms
from django.utils.translation import gettext_lazy as _

from reports.models import ReportTemplate, ScopeKind


class ReportRequestForm(forms.Form):
    """The report page's form. The scope, the period's order and the options are checked by
    reports.services.report_request, which names the faulty field."""

    template = forms.ChoiceField(label=_("Template"), choices=ReportTemplate.choices)
    scope_kind = forms.ChoiceField(label=_("Scope"), choices=ScopeKind.choices)
    scope = forms.CharField(
        label=_("Mission, region code or country"),
        max_length=30,
        help_text=_(
            "A mission's acronym, a regional organisation's code (eccas, ecowas, …), "
            "a country's ISO 3166-1 alpha-3 code (CAF), or world (the Secretary-General's "
            "input only)."
        ),
    )
    period_start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(
        label=_("To (inclusive)"), widget=forms.DateInput(attrs={"type": "date"})
    )
    hxl = forms.BooleanField(label=_("HXL hashtag row in the CSV files"), required=False)
    significant_seizure_min_arms = forms.IntegerField(
        label=_("IAFQ: significant seizures from (arms)"),
        required=False,
        min_value=1,
        max_value=100_000,
    )

    def options(self) -> dict:
        options = {"hxl": self.cleaned_data["hxl"]}
        minimum = self.cleaned_data.get("significant_seizure_min_arms")
        if self.cleaned_data["template"] == ReportTemplate.IAFQ and minimum:
            options["significant_seizure_min_arms"] = minimum
        return options
