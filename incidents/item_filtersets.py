"""The filtersets of the records' items: weapons, ammunition and trace requests.

Which items a caller sees is decided by its incidents (`Incident.objects.visible_to`); these
filters only narrow that down, each refusing a malformed value with a message naming it."""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field

from incidents.choices import (
    AmmunitionType,
    Condition,
    Disposition,
    OriginKind,
    OriginMethod,
    TraceFailureReason,
    TraceStatus,
    TraceUrgency,
    WeaponCategory,
)
from incidents.filtersets import BlankIsUnsetFilterSet, StrictBooleanFilter, UTCDateTimeFilter
from incidents.models import AmmunitionItem, IllicitOrigin, TraceRequest, WeaponItem


class CountryCodeField(forms.CharField):
    """An ISO 3166-1 alpha-3 code, as the records store them (CAF, not caf or CF): three
    letters, as the schema's pattern says (so not stripped of spaces either)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, strip=False, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value and not (len(value) == 3 and value.isascii() and value.isalpha()):
            raise ValidationError(_("Give an ISO 3166-1 alpha-3 country code, such as CAF."))
        return value.upper()


@extend_schema_field({"type": "string", "pattern": "^[A-Za-z]{3}$"})
class CountryCodeFilter(django_filters.CharFilter):
    field_class = CountryCodeField


@extend_schema_field({"type": "integer"})
class IdFilter(django_filters.NumberFilter):
    """A record's id: a whole number, as the schema says (an id that names nothing selects
    nothing)."""

    field_class = forms.IntegerField


class WeaponItemFilterSet(BlankIsUnsetFilterSet):
    incident = IdFilter(field_name="incident_id", label=_("Incident"))
    category = django_filters.MultipleChoiceFilter(
        choices=WeaponCategory.choices, label=_("Weapon category")
    )
    make = django_filters.CharFilter(lookup_expr="iexact", label=_("Make"))
    model = django_filters.CharFilter(lookup_expr="iexact", label=_("Model"))
    serial_number = django_filters.CharFilter(lookup_expr="iexact", label=_("Serial number"))
    country_of_manufacture = CountryCodeFilter(label=_("Country of manufacture"))
    # The flow columns: where the item was seized and its established illicit origin (never
    # where it was made: that is country_of_manufacture).
    seized_in = CountryCodeFilter(label=_("Seized in (country)"))
    origin_country = CountryCodeFilter(label=_("Country of established illicit origin"))
    seized_after = UTCDateTimeFilter(
        field_name="seized_at", lookup_expr="gte", label=_("Seized from")
    )
    seized_before = UTCDateTimeFilter(
        field_name="seized_at", lookup_expr="lte", label=_("Seized until")
    )
    markings_altered = StrictBooleanFilter(label=_("Markings altered or obliterated"))
    condition = django_filters.MultipleChoiceFilter(choices=Condition.choices, label=_("Condition"))
    disposition = django_filters.MultipleChoiceFilter(
        choices=Disposition.choices, label=_("Current disposition")
    )

    class Meta:
        model = WeaponItem
        fields: list[str] = []


class AmmunitionItemFilterSet(BlankIsUnsetFilterSet):
    incident = IdFilter(field_name="incident_id", label=_("Incident"))
    calibre = django_filters.CharFilter(lookup_expr="iexact", label=_("Calibre"))
    ammunition_type = django_filters.MultipleChoiceFilter(
        choices=AmmunitionType.choices, label=_("Type")
    )
    headstamp_manufacturer = django_filters.CharFilter(
        lookup_expr="iexact", label=_("Headstamp manufacturer")
    )

    class Meta:
        model = AmmunitionItem
        fields: list[str] = []


class IllicitOriginFilterSet(BlankIsUnsetFilterSet):
    weapon = IdFilter(field_name="weapon_id", label=_("Weapon"))
    method = django_filters.MultipleChoiceFilter(
        choices=OriginMethod.choices, label=_("Established by way of")
    )
    kind = django_filters.MultipleChoiceFilter(
        choices=OriginKind.choices, label=_("Kind of illicit origin")
    )
    diversion_country = CountryCodeFilter(label=_("Country of diversion"))

    class Meta:
        model = IllicitOrigin
        fields: list[str] = []


class TraceRequestFilterSet(BlankIsUnsetFilterSet):
    weapon = IdFilter(field_name="weapon_id", label=_("Weapon"))
    status = django_filters.MultipleChoiceFilter(choices=TraceStatus.choices, label=_("Status"))
    failure_reason = django_filters.MultipleChoiceFilter(
        choices=TraceFailureReason.choices, label=_("Reason the trace failed")
    )
    urgency = django_filters.ChoiceFilter(choices=TraceUrgency.choices, label=_("Urgency"))
    follows = IdFilter(field_name="follows_id", label=_("Follows up the request"))
    diversion_established = StrictBooleanFilter(label=_("Point of diversion established"))
    diversion_country = CountryCodeFilter(label=_("Country of diversion"))
    sent_after = django_filters.DateFilter(
        field_name="sent_on", lookup_expr="gte", label=_("Sent from")
    )
    sent_before = django_filters.DateFilter(
        field_name="sent_on", lookup_expr="lte", label=_("Sent until")
    )

    class Meta:
        model = TraceRequest
        fields: list[str] = []
