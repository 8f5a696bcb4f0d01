"""Reads over many incidents, as chainable queryset methods."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import SnapToGrid
from django.db import models
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Value,
    When,
)
from django.db.models.functions import Concat

if TYPE_CHECKING:
    from organisations.access import Principal, Visibility


class IncidentQuerySet(models.QuerySet):
    def visible_to(self, principal: Principal) -> IncidentQuerySet:
        """The incidents `principal` may read, each annotated with the location it may see:
        `shown_location` (exact, or snapped to a coarse grid) and `location_is_exact`.

        Every read path (lists, details, map, API, exports, analyses, reports) starts here;
        outputs use `shown_location`, never `location`.
        """
        from organisations.access import incident_visibility

        return self.visible_with(incident_visibility(principal))

    def visible_with(self, visibility: Visibility) -> IncidentQuerySet:
        """The incidents a Visibility admits, annotated as `visible_to` describes."""
        from organisations.access import GENERALISED_CELL_DEGREES

        exact = ExpressionWrapper(visibility.exact, output_field=BooleanField())
        return self.filter(visibility.visible).annotate(
            location_is_exact=exact,
            shown_location=Case(
                When(visibility.exact, then="location"),
                default=SnapToGrid("location", GENERALISED_CELL_DEGREES),
                output_field=GeometryField(srid=4326),
            ),
        )

    def with_api_labels(self) -> IncidentQuerySet:
        """Incidents of `visible_to`, with what the API shows of their relations and
        location as plain columns: `mission_acronym`, `contingent_label` (as
        Contingent.__str__ writes it: "Alpha (MINUSCA)") and the shown location's
        `shown_longitude` and `shown_latitude`.

        A page of a list then reads one row per incident, with no related objects to build
        and no geometry to parse (most of the time such a page took)."""
        return self.with_shown_coordinates().annotate(
            mission_acronym=F("mission__acronym"),
            contingent_label=Concat(
                "contingent__name", Value(" ("), "contingent__mission__acronym", Value(")")
            ),
        )

    def with_shown_coordinates(self) -> IncidentQuerySet:
        """Incidents of `visible_to`, with the shown location's `shown_longitude` and
        `shown_latitude` as numbers: a geometry column comes out as Django's EWKB, to be
        parsed again for every row."""
        return self.annotate(
            shown_longitude=Func("shown_location", function="ST_X", output_field=FloatField()),
            shown_latitude=Func("shown_location", function="ST_Y", output_field=FloatField()),
        )
