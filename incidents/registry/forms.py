"""The registry entry's form: its fields, and its serials typed as `component: serial`
lines (incidents/component_serials.py)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.component_serials import ComponentSerialsField
from incidents.models import RegistryEntry
from incidents.registry.services import ENTRY_FIELDS
from organisations.models import Contingent, Mission


class RegistryEntryForm(forms.ModelForm):
    serials = ComponentSerialsField(
        label=_("Serial numbers"),
        help_text=_(
            "One per line: frame: AB123456; barrel: AB123456. Write ? for a character you "
            "cannot read, * for several."
        ),
    )

    class Meta:
        model = RegistryEntry
        fields = ENTRY_FIELDS
        widgets = {"occurred_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, missions: set[int], **kwargs):
        super().__init__(*args, **kwargs)
        mission, contingent = self.fields["mission"], self.fields["contingent"]
        assert isinstance(mission, forms.ModelChoiceField)
        assert isinstance(contingent, forms.ModelChoiceField)
        mission.queryset = Mission.objects.filter(pk__in=missions)
        mission.required = True
        contingent.queryset = Contingent.objects.filter(mission_id__in=missions)


class RegistryImportForm(forms.Form):
    mission = forms.ModelChoiceField(label=_("Mission"), queryset=Mission.objects.none())
    file = forms.FileField(label=_("File (CSV or XLSX)"))

    def __init__(self, *args, missions: set[int], **kwargs):
        super().__init__(*args, **kwargs)
        mission = self.fields["mission"]
        assert isinstance(mission, forms.ModelChoiceField)
        mission.queryset = Mission.objects.filter(pk__in=missions)
