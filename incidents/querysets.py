"""Reads over many incidents, as chainable queryset methods."""

from __future__ import annotations

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import SnapToGrid
from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.db import models
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    OuterRef,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat

from incidents.access import Visibility, incident_visibility
from incidents.choices import WorkflowState
from incidents.registry.choices import HitState
from organisations.access import GENERALISED_CELL_DEGREES, Principal


class IncidentQuerySet(models.QuerySet):
    def visible_to(self, principal: Principal) -> IncidentQuerySet:
        """The incidents `principal` may read, each annotated with the location it may see:
        `shown_location` (exact, or snapped to a coarse grid), `location_is_exact`, and
        `shown_admin_area_id` (the admin area, where the location is shown exact).

        Every read path (lists, details, map, API, exports, analyses, reports) starts here;
        outputs use `shown_location`, never `location`.
        """

        return self.visible_with(incident_visibility(principal))

    def visible_with(self, visibility: Visibility) -> IncidentQuerySet:
        """The incidents a Visibility admits, annotated as `visible_to` describes."""

        exact = ExpressionWrapper(visibility.exact, output_field=BooleanField())
        return self.filter(visibility.visible).annotate(
            location_is_exact=exact,
            shown_location=Case(
                When(visibility.exact, then="location"),
                default=SnapToGrid("location", GENERALISED_CELL_DEGREES),
                output_field=GeometryField(srid=4326),
            ),
            # The admin area is derived from the exact point, and can be smaller than a
            # grid cell: shown only with the exact location. (The country is shown to
            # every reader: README, "Access policy", what generalisation leaves visible.)
            shown_admin_area_id=Case(
                When(visibility.exact, then="admin_area_id"),
                # Typed: where no location is exact, the CASE compiles to this alone.
                default=Cast(Value(None), output_field=models.BigIntegerField()),
                output_field=models.BigIntegerField(),
            ),
        )

    def official(self) -> IncidentQuerySet:
        """The records official outputs count (reports, indicators, the IAFQ), whoever
        asks: verified and not withdrawn. Drafts, submitted records and records returned
        for correction are not yet verified; a withdrawn record stays verified but no
        longer counts (incidents.services.incident_withdraw)."""
        return self.filter(state=WorkflowState.VERIFIED, withdrawn_at__isnull=True)

    def awaiting_verification(self) -> IncidentQuerySet:
        """The records official outputs leave out because they are not yet verified
        (draft, submitted, returned for correction), withdrawn ones aside: the other side
        of `official`."""
        return self.filter(withdrawn_at__isnull=True).exclude(state=WorkflowState.VERIFIED)

    def shown_in(self, area: GEOSGeometry) -> IncidentQuerySet:
        """Incidents of `visible_to` whose *shown* location lies in `area` (a polygon or
        multipolygon, SRID 4326): the one spatial test of every read path (bbox, polygon,
        OGC bbox, map viewport, analysis area), so that a reader of generalised locations
        learns nothing from a filter that the shown point does not already tell.

        The test on the stored location only lets PostgreSQL use the spatial index: a shown
        location is the stored one snapped to the grid, so at most half a cell away *on each
        axis* (up to 0.177° along a diagonal, not 0.125°). The area's bounding box widened
        by half a cell on every side holds every stored point whose shown one can lie in
        the area; the exact test on `shown_location` then decides."""

        margin = GENERALISED_CELL_DEGREES / 2 + 1e-9
        minx, miny, maxx, maxy = area.extent
        near = Polygon.from_bbox((minx - margin, miny - margin, maxx + margin, maxy + margin))
        near.srid = 4326
        return self.filter(location__intersects=near, shown_location__intersects=area)

    def holding_registry_hits(self) -> IncidentQuerySet:
        """The seizures holding at least one weapon with a registry hit still standing (new
        or confirmed; a dismissed hit was judged not the weapon), each annotated with
        `registry_hits`, their number.

        Only the hits are counted, never read: nothing of a registry entry (who reported
        it, where, its releasability) reaches the caller, so the reader's visibility of the
        seizure is the only access that applies (the map's hits layer, geo/map/layers.py).
        Hits between two seizures are no registry hits and are left out."""
        # By name through the app registry: incidents.models imports this module.
        hit_model = self.model._meta.apps.get_model("incidents", "WeaponHit")
        standing = (
            hit_model.objects.filter(
                weapon__incident_id=OuterRef("pk"),
                registry_entry__isnull=False,
                state__in=(HitState.NEW, HitState.CONFIRMED),
            )
            .order_by()
            .values("weapon__incident_id")
            .annotate(count=models.Count("id"))
            .values("count")
        )
        return self.annotate(
            registry_hits=Subquery(standing, output_field=models.IntegerField())
        ).filter(registry_hits__gt=0)

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


class TraceRequestQuerySet(models.QuerySet):
    def visible_to(self, principal: Principal) -> TraceRequestQuerySet:
        """The trace requests on weapons of incidents `principal` may read, each with the
        point of diversion it may see: `shown_diversion_point`, exact where the incident's
        location is shown exact, else snapped to the same grid as the incident's location
        (a point of diversion is often where the weapon was seized: a store, a post)."""
        from incidents.models import Incident

        visibility = incident_visibility(principal)
        readable = Incident.objects.filter(visibility.visible).values("id")
        seen_exactly = Incident.objects.filter(visibility.exact, pk=OuterRef("weapon__incident_id"))
        return (
            self.filter(weapon__incident__in=readable)
            .annotate(diversion_point_is_exact=Exists(seen_exactly))
            .annotate(
                shown_diversion_point=Case(
                    When(diversion_point_is_exact=True, then="diversion_point"),
                    default=SnapToGrid("diversion_point", GENERALISED_CELL_DEGREES),
                    output_field=GeometryField(srid=4326),
                )
            )
        )


class WeaponItemQuerySet(models.QuerySet):
    def with_manufacturer(self) -> WeaponItemQuerySet:
        """Each weapon with `manufacturer_name` and `manufacturer_country`: the manufacturer
        of the controlled list (incidents/manufacturers.py) that its make names, or None."""
        from incidents.manufacturers import ManufacturerAlias, make_key_expression

        named = ManufacturerAlias.objects.filter(key=make_key_expression(OuterRef("make")))
        return self.annotate(
            manufacturer_name=Subquery(named.values("manufacturer__name")[:1]),
            manufacturer_country=Subquery(named.values("manufacturer__country")[:1]),
        )
