"""The analyst's dashboard page: the incident list's filter form, its figures as charts and
tables, each figure linking to the map narrowed to it. Counts of people print through
small-cell suppression (incidents.suppression), in the tables, the charts' data and the
totals alike."""

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date

import rules
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geo.analyses.source import IncidentChoice
from geo.countries import country_name
from geo.models import Region
from incidents import suppression
from incidents.access import incident_visibility
from incidents.choices import AgeGroup, Context, IncidentKind, PersonRole, Sex, WeaponCategory
from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident, WeaponHit
from incidents.registry.choices import HitState
from reports.dashboard.figures import (
    PERIODS,
    UNKNOWN,
    Count,
    DashboardFigures,
    GenderFigures,
    dashboard_figures,
    filters_of,
    map_url,
    period_map_url,
)


class DashboardOptionsForm(forms.Form):
    period = forms.ChoiceField(
        label=gettext_lazy("Count per"),
        choices=[("month", gettext_lazy("month")), ("week", gettext_lazy("week"))],
        required=False,
    )

    def clean_period(self) -> str:
        return self.cleaned_data["period"] or PERIODS[0]


@dataclass
class Row:
    label: str
    # A count, or a suppressed count of people ("< 5", "x": incidents.suppression).
    value: int | str
    link: str
    # Further numbers shown in the table only (e.g. traced items of an origin).
    extra: list[int | str] = field(default_factory=list)
    # The label under the bar, where the table's would not fit (country codes of a flow).
    short_label: str = ""


@dataclass
class Chart:
    """One figure: drawn by static/js/dashboard.js from `data`, readable in its table."""

    id: str
    title: str
    label_heading: str
    value_heading: str
    rows: list[Row]
    kind: str = "bar"  # bar | line
    horizontal: bool = False
    extra_headings: list[str] = field(default_factory=list)
    note: str = ""
    # Drawn as stacked bars of the `extra` columns (one dataset per extra heading) rather
    # than one bar of the value.
    stacked: bool = False
    # What following a row's link does, where it does not show the map.
    link_title: str = ""

    @property
    def data_id(self) -> str:
        return f"chart-{self.id}-data"

    @property
    def data(self) -> dict:
        if self.stacked:
            datasets = [
                {"label": heading, "data": [_drawn(row.extra[index]) for row in self.rows]}
                for index, heading in enumerate(self.extra_headings)
            ]
        else:
            datasets = [
                {"label": self.value_heading, "data": [_drawn(row.value) for row in self.rows]}
            ]
        return {
            "type": self.kind,
            "horizontal": self.horizontal,
            "stacked": self.stacked,
            "labels": [row.short_label or row.label for row in self.rows],
            "datasets": datasets,
            "links": [row.link for row in self.rows],
        }


def _drawn(value: int | str) -> int | None:
    """A value as the chart draws it: a suppressed count of people is no bar at all (its
    number must not reach the page)."""
    return None if isinstance(value, str) else value


def _label(choices: type[models.TextChoices], code: str) -> str:
    try:
        return str(choices(code).label)
    except ValueError:
        return code


def _country(code: str) -> str:
    return _("Unknown") if code in ("", UNKNOWN) else f"{country_name(code)} ({code})"


def dashboard_charts(figures: DashboardFigures, filters: QueryDict, cleaned: dict) -> list[Chart]:
    """The figures as charts whose bars and table rows link to /map/ narrowed to them."""

    def counts(counts: list[Count], name: str, label: Callable[[str], str]) -> list[Row]:
        # An incident without a country cannot be chosen by country on the map: it links
        # to the map of the whole filter.
        return [
            Row(
                label(count.key),
                count.count,
                map_url(filters) if count.key == UNKNOWN else map_url(filters, **{name: count.key}),
            )
            for count in counts
        ]

    period_names = {"month": _("Month"), "week": _("Week starting")}
    region_names = dict(
        Region.objects.filter(code__in=[count.key for count in figures.by_region]).values_list(
            "code", "name"
        )
    )
    charts = [
        Chart(
            "over-time",
            _("Incidents over time"),
            period_names[figures.period],
            _("Incidents"),
            [
                Row(
                    count.key if figures.period == "week" else count.key[:7],
                    count.count,
                    period_map_url(
                        filters,
                        date.fromisoformat(count.key),
                        figures.period,
                        after=cleaned.get("occurred_after"),
                        before=cleaned.get("occurred_before"),
                    ),
                )
                for count in figures.over_time
            ],
            kind="line",
        ),
        Chart(
            "by-category",
            _("Weapons by SALW category"),
            _("Category"),
            _("Weapons"),
            counts(figures.by_category, "category", lambda key: _label(WeaponCategory, key)),
            horizontal=True,
        ),
        Chart(
            "by-kind",
            _("Incidents by kind"),
            _("Kind"),
            _("Incidents"),
            counts(figures.by_kind, "kind", lambda key: _label(IncidentKind, key)),
            horizontal=True,
        ),
        Chart(
            "by-context",
            _("Incidents by context"),
            _("Context"),
            _("Incidents"),
            counts(figures.by_context, "context", lambda key: _label(Context, key)),
        ),
        Chart(
            "by-country",
            _("Incidents by country"),
            _("Country"),
            _("Incidents"),
            counts(figures.by_country, "country", _country),
            horizontal=True,
        ),
        Chart(
            "by-region",
            _("Incidents by regional organisation"),
            _("Regional organisation"),
            _("Incidents"),
            counts(figures.by_region, "region", lambda code: region_names.get(code, code)),
            horizontal=True,
            note=_("An incident counts in every organisation its country belongs to."),
        ),
        Chart(
            "top-made-in",
            _("Where the weapons were made"),
            _("Country of manufacture"),
            _("Weapons"),
            [
                Row(_country(made.country), made.items, map_url(filters))
                for made in figures.top_made_in
            ],
            horizontal=True,
            note=_(
                "Where a weapon was made, not where it was diverted or whence it came: no "
                "movement, never drawn as a flow. Weapons whose country of manufacture is "
                "unknown: %(count)s."
            )
            % {"count": figures.items_made_in_unknown},
        ),
        Chart(
            "top-flows",
            _("Illicit origins established: country of diversion → country of seizure"),
            _("Flow"),
            _("Weapons"),
            [
                Row(
                    f"{_country(flow.origin)} → {_country(flow.destination)}",
                    flow.items,
                    map_url(filters, country=flow.destination),
                    [flow.records],
                    short_label=f"{flow.origin} → {flow.destination}",
                )
                for flow in figures.top_flows
            ],
            horizontal=True,
            extra_headings=[_("Item records")],
            note=_(
                "Weapons whose illicit origin was established (by a trace, a competent "
                "authority's finding, an investigation or marking evidence): %(count)s; the "
                "largest cross-border ones between known countries are listed, and the map's "
                "Flows analysis draws them."
            )
            % {"count": figures.established_items},
        ),
    ]
    return charts


def hits_chart(counts: dict[str, int]) -> Chart:
    """The registry hits on the chosen seizures, per state, each row linking to the hits
    page of that state (which lists what the reader may read of each hit)."""
    hit_list = reverse("incidents:hits")
    return Chart(
        "registry-hits",
        _("Registry hits on these seizures"),
        _("State"),
        _("Hits"),
        [
            Row(str(label), counts[state], f"{hit_list}?state={state}")
            for state, label in HitState.choices
        ],
        note=_(
            "Weapons seized that match a weapon reported lost, stolen or diverted: new "
            "(not yet decided), confirmed, or dismissed by a verifier."
        ),
        link_title=_("List the hits of this state"),
    )


def suppressed_people(gender: GenderFigures) -> dict[Hashable, int | str]:
    """Every count of people the page prints, suppressed together (incidents.suppression):
    ("persons",) the total; ("sex", code), ("age", code) and ("role", code), each adding
    up to the total; ("role_sex", role, sex), whose rows add up to their role and whose
    columns to their sex."""
    values: dict[Hashable, int] = {("persons",): int(gender.persons)}
    for name, counts in (
        ("sex", gender.by_sex),
        ("age", gender.by_age_group),
        ("role", gender.by_role),
    ):
        values |= {(name, count.key): int(count.count) for count in counts}
    roles = [count.key for count in gender.by_role]
    sexes = list(dict.fromkeys([*Sex.values, *(count.key for count in gender.by_sex)]))
    for role in roles:
        for sex in sexes:
            values[("role_sex", role, sex)] = int(gender.by_role_and_sex.get((role, sex), 0))
    for sex in sexes:
        values.setdefault(("sex", sex), 0)
    lines: list[suppression.Line] = [
        ([(name, count.key) for count in counts], ("persons",))
        for name, counts in (
            ("sex", gender.by_sex),
            ("age", gender.by_age_group),
            ("role", gender.by_role),
        )
    ]
    lines += [([("role_sex", role, sex) for sex in sexes], ("role", role)) for role in roles]
    lines += [([("role_sex", role, sex) for role in roles], ("sex", sex)) for sex in sexes]
    return suppression.suppress(values, lines)


def _in_order(counts: list[Count], choices: type[models.TextChoices]) -> list[Count]:
    """Counts of people in the order of their choices, not by size: the order of two
    suppressed rows must not say which is larger."""
    order = list(choices.values)
    return sorted(
        counts,
        key=lambda count: (order.index(count.key) if count.key in order else len(order), count.key),
    )


def gender_charts(
    figures: DashboardFigures, filters: QueryDict, printed: dict[Hashable, int | str]
) -> list[Chart]:
    """The charts of people involved; `printed`: suppressed_people(figures.gender)."""
    gender = figures.gender
    if gender is None:
        return []
    everything = map_url(filters)
    note = suppression.note()
    by_role = Chart(
        "persons-by-role",
        _("People involved by role and sex"),
        _("Role"),
        _("People"),
        [
            Row(
                _label(PersonRole, count.key),
                printed[("role", count.key)],
                everything,
                [printed[("role_sex", count.key, sex)] for sex in Sex.values],
            )
            for count in _in_order(gender.by_role, PersonRole)
        ],
        extra_headings=[str(label) for label in Sex.labels],
        stacked=True,
        note=note,
    )
    return [
        Chart(
            "persons-by-sex",
            _("People involved by sex"),
            _("Sex"),
            _("People"),
            [
                Row(_label(Sex, c.key), printed[("sex", c.key)], everything)
                for c in _in_order(gender.by_sex, Sex)
            ],
            note=note,
        ),
        Chart(
            "persons-by-age",
            _("People involved by age group"),
            _("Age group"),
            _("People"),
            [
                Row(_label(AgeGroup, c.key), printed[("age", c.key)], everything)
                for c in _in_order(gender.by_age_group, AgeGroup)
            ],
            note=note,
        ),
        by_role,
    ]


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if not rules.has_perm("incidents.list_incidents", request.user):
        raise PermissionDenied
    visibility = incident_visibility(request.user)
    filterset = IncidentFilterSet(
        request.GET, queryset=Incident.objects.visible_with(visibility), request=request
    )
    options = DashboardOptionsForm(request.GET)
    context = {"filter": filterset, "options": options}
    # A filter that cannot be read shows the form with its errors, and no figures that
    # would silently ignore it.
    if not (filterset.is_valid() and options.is_valid()):
        return render(request, "reports/dashboard.html", context, status=400)
    filters = filters_of(request.GET, filterset.form.cleaned_data)
    figures = dashboard_figures(
        incidents=filterset.qs,
        choice=IncidentChoice(visibility, filterset.form.cleaned_data),
        period=options.cleaned_data["period"],
        with_gender=rules.has_perm("incidents.view_gender_data", request.user),
    )
    people = suppressed_people(figures.gender) if figures.gender else {}
    # Counted over the seizures the figures count, the filters included; the registry
    # entries themselves are not read (one statement).
    hit_counts = WeaponHit.objects.registry_hits_on(filterset.qs).counts_by_state()
    return render(
        request,
        "reports/dashboard.html",
        {
            **context,
            "figures": figures,
            "charts": dashboard_charts(figures, filters, filterset.form.cleaned_data),
            "gender_charts": gender_charts(figures, filters, people),
            "hits_chart": hits_chart(hit_counts),
            "persons": people.get(("persons",)),
            "map_url": map_url(filters),
            "list_query": filters.urlencode(),
        },
    )
