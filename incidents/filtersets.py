"""The one filterset of incidents: the HTML list, the map and the API all filter with it."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from incidents.choices import Context, IncidentKind, WeaponCategory, WorkflowState
from incidents.models import Incident
from organisations.choices import Releasability
from organisations.models import Contingent, Mission


class IncidentFilterSet(django_filters.FilterSet):
    occurred_after = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label=_("Occurred from")
    )
    occurred_before = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lte", label=_("Occurred until")
    )
    # distinct=False on filters over the incident's own columns: they cannot repeat a row,
    # and a DISTINCT over every selected column costs a sort (analyses read millions).
    kind = django_filters.MultipleChoiceFilter(
        choices=IncidentKind.choices, distinct=False, label=_("Kind")
    )
    context = django_filters.MultipleChoiceFilter(
        choices=Context.choices, distinct=False, label=_("Context")
    )
    category = django_filters.MultipleChoiceFilter(
        field_name="weapons__category",
        choices=WeaponCategory.choices,
        distinct=True,
        label=_("Weapon category"),
    )
    state = django_filters.MultipleChoiceFilter(
        choices=WorkflowState.choices, distinct=False, label=_("Workflow state")
    )
    releasability = django_filters.MultipleChoiceFilter(
        choices=Releasability.choices, distinct=False, label=_("Releasability")
    )
    # Chosen by acronym (?mission=MINUSCA); the lookup must then compare acronyms too.
    mission = extend_schema_field(OpenApiTypes.STR)(
        django_filters.ModelMultipleChoiceFilter(
            field_name="mission__acronym",
            queryset=Mission.objects.all(),
            to_field_name="acronym",
            distinct=False,
            label=_("Mission"),
        )
    )
    contingent = django_filters.ModelMultipleChoiceFilter(
        queryset=Contingent.objects.all(), distinct=False, label=_("Contingent")
    )
    country = django_filters.CharFilter(label=_("Country (ISO alpha-3)"))
    q = django_filters.CharFilter(method="filter_text", label=_("Search"))
    withdrawn = django_filters.BooleanFilter(
        field_name="withdrawn_at", lookup_expr="isnull", exclude=True, label=_("Withdrawn")
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("occurred_at", "occurred_at"),
            ("updated_at", "updated_at"),
            ("kind", "kind"),
            ("state", "state"),
        ),
        label=_("Sort by"),
    )

    class Meta:
        model = Incident
        fields: list[str] = []

    def filter_text(self, queryset, name, value):
        return queryset.filter(
            Q(narrative__icontains=value)
            | Q(actors__icontains=value)
            | Q(external_reference__iexact=value)
            | Q(weapons__serial_number__iexact=value)
        ).distinct()

    @property
    def qs(self):
        incidents = super().qs
        # Withdrawn records stay out of lists unless asked for.
        if self.form.cleaned_data.get("withdrawn") is None:
            incidents = incidents.filter(withdrawn_at__isnull=True)
        return incidents
