"""The one filterset of incidents: the HTML list, the map and the API all filter with it."""

import json
import re
from datetime import UTC, timedelta

import django_filters
from django import forms
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Polygon
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from geo.models import Region
from incidents.choices import Context, IncidentKind, WeaponCategory, WorkflowState
from incidents.models import Incident, WeaponItem
from organisations.choices import Releasability
from organisations.models import Contingent, Mission

MAX_POLYGON_CHARS = 200_000


class UTCDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time, brought to UTC (PostgreSQL refuses offsets beyond ±15:59)."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError(_("Give a date-time between the years 1 and 9999.")) from None


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


# How much of time an end written to a date, a minute or a second covers.
_WRITTEN_TO = [
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), timedelta(days=1)),
    (re.compile(r"T\d{2}:\d{2}(Z|[+-]\d{2}(:?\d{2})?)?$"), timedelta(minutes=1)),
    (re.compile(r"T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}(:?\d{2})?)?$"), timedelta(seconds=1)),
]


class UntilDateTimeField(UTCDateTimeField):
    """An inclusive end that covers the whole of the last unit written: a date to its last
    microsecond, a time in minutes to the end of that minute, in seconds to the end of that
    second; a fraction of a second as written. "Until 2024-12-31T23:59:59Z" (as the map
    sends a day's end) holds an incident at 23:59:59.5, in the list and on the map alike,
    and closes December, so that the map reads that month from its kept counts."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None or not isinstance(value, str):
            return moment
        for written, unit in _WRITTEN_TO:
            if written.search(value.strip()):
                return moment + unit - timedelta(microseconds=1)
        return moment


class UntilDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UntilDateTimeField


# A bounding box as the schema states it: four decimal numbers, longitudes within -180..180
# and latitudes within -90..90. What a pattern cannot say, minx <= maxx and miny <= maxy,
# the field checks after it.
_LONGITUDE = r"-?(180(\.0+)?|(1[0-7][0-9]|[0-9]{1,2})(\.[0-9]+)?)"
_LATITUDE = r"-?(90(\.0+)?|[0-8]?[0-9](\.[0-9]+)?)"
BBOX_PATTERN = rf"^{_LONGITUDE},{_LATITUDE},{_LONGITUDE},{_LATITUDE}$"


class BBoxField(forms.CharField):
    """`minx,miny,maxx,maxy` in WGS 84 degrees, as a polygon."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, strip=False, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        message = _(
            "Give four numbers, minx,miny,maxx,maxy, in WGS 84 degrees (longitude "
            "-180 to 180, latitude -90 to 90), with minx <= maxx and miny <= maxy."
        )
        if not re.fullmatch(BBOX_PATTERN, value):
            raise ValidationError(message)
        minx, miny, maxx, maxy = (float(part) for part in value.split(","))
        if not (minx <= maxx and miny <= maxy):
            raise ValidationError(message)
        return Polygon.from_bbox((minx, miny, maxx, maxy))


class AreaField(forms.CharField):
    """A polygon or multipolygon in WGS 84, as WKT or a GeoJSON geometry."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        message = _(
            "Give a polygon or multipolygon in WGS 84, as WKT (POLYGON((…))) or a GeoJSON "
            'geometry ({"type": "Polygon", …}), valid and within -180..180, -90..90.'
        )
        if len(value) > MAX_POLYGON_CHARS:
            raise ValidationError(message)
        try:
            if value.lstrip().startswith("{"):
                json.loads(value)  # a clear refusal of broken JSON before GDAL sees it
            area = GEOSGeometry(value, srid=4326)
        except (ValueError, TypeError, GEOSException, GDALException):
            raise ValidationError(message) from None
        if not isinstance(area, Polygon | MultiPolygon) or area.empty or not area.valid:
            raise ValidationError(message)
        minx, miny, maxx, maxy = area.extent
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise ValidationError(message)
        area.srid = 4326
        return area


class RawNullBooleanSelect(forms.NullBooleanSelect):
    """The select of the HTML list; hands the field what was sent, so that the field can
    refuse what is neither true nor false (the stock widget reads it as "unknown")."""

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class StrictBooleanField(forms.NullBooleanField):
    widget = RawNullBooleanSelect

    """true/false (or 1/0); empty or "unknown" for either. Anything else is an error,
    rather than silently no filter."""

    def to_python(self, value):
        if value in (None, "", "unknown"):
            return None
        if value in (True, "true", "True", "1"):
            return True
        if value in (False, "false", "False", "0"):
            return False
        raise ValidationError(_("Give true or false."))

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class BBoxFilter(django_filters.Filter):
    field_class = BBoxField


class AreaFilter(django_filters.Filter):
    field_class = AreaField


class KnownOrNothingField(django_filters.fields.ModelMultipleChoiceField):
    """Choices by key; a well-formed key that names nothing selects nothing, rather than
    failing the whole query (a client syncing by contingent id, a mission since closed)."""

    def _check_values(self, value):
        key = self.to_field_name or "pk"
        try:
            keys = sorted(set(value))
        except TypeError:
            raise ValidationError(
                self.error_messages["invalid_list"], code="invalid_list"
            ) from None
        for chosen in keys:
            self.validate_no_null_characters(chosen)
            try:
                self.queryset.filter(**{key: chosen})
            except (ValueError, TypeError):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": chosen},
                ) from None
        # The keys themselves: the filter compares them with the records' own.
        return keys


class KnownOrNothingFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = KnownOrNothingField

    def is_noop(self, qs, value) -> bool:
        return False


class IncidentFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        after, before = cleaned.get("occurred_after"), cleaned.get("occurred_before")
        if after and before and after > before:
            message = _("occurred_after must not be later than occurred_before.")
            self.add_error("occurred_after", message)
            self.add_error("occurred_before", message)
        return cleaned


def without_blanks(data):
    """`data` (a QueryDict or a dict) without its empty values: `?kind=` or `?kind=&kind=x`
    sets no kind or only x. The HTML list's form sends its empty fields so, and the API's
    schema says every filter may be given empty (`allowEmptyValue`)."""
    if data is None:
        return None
    if hasattr(data, "getlist"):
        kept = data.copy()  # a mutable copy of a QueryDict
        for name in list(kept.keys()):
            values = [value for value in data.getlist(name) if value != ""]
            if values:
                kept.setlist(name, values)
            else:
                del kept[name]
        return kept
    kept = {}
    for name, value in data.items():
        if isinstance(value, list | tuple):
            value = [item for item in value if item != ""]
        if value not in ("", [], None):
            kept[name] = value
    return kept


class BlankIsUnsetFilterSet(django_filters.FilterSet):
    """A FilterSet for which a filter given empty is not set (`without_blanks`)."""

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(without_blanks(data), *args, **kwargs)


class IncidentFilterSet(BlankIsUnsetFilterSet):
    occurred_after = UTCDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label=_("Occurred from")
    )
    occurred_before = UntilDateTimeFilter(
        field_name="occurred_at", lookup_expr="lte", label=_("Occurred until")
    )
    # Incremental sync: what was created or changed since the last pull.
    updated_since = UTCDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("Updated since (ISO 8601)")
    )
    bbox = extend_schema_field(
        {
            "type": "string",
            "pattern": BBOX_PATTERN,
            "description": "minx,miny,maxx,maxy in WGS 84 degrees, with minx <= maxx and "
            "miny <= maxy (400 otherwise: a rule the pattern cannot state); tested against "
            "the location the caller may see.",
            "example": "15.5,3.5,19.5,6.5",
        }
    )(
        BBoxFilter(
            method="filter_area",
            label=_("Bounding box (minx,miny,maxx,maxy, WGS 84)"),
        )
    )
    polygon = extend_schema_field(
        {
            "type": "string",
            "description": "A polygon or multipolygon in WGS 84, as WKT or a GeoJSON "
            "geometry; tested against the location the caller may see.",
            "example": "POLYGON((15.5 3.5, 19.5 3.5, 19.5 6.5, 15.5 6.5, 15.5 3.5))",
        }
    )(
        AreaFilter(
            method="filter_area",
            label=_("Area (WKT or GeoJSON polygon, WGS 84)"),
        )
    )
    region = django_filters.CharFilter(
        method="filter_region", label=_("Regional organisation (code)")
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
    # Chosen by acronym (?mission=MINUSCA).
    mission = extend_schema_field(OpenApiTypes.STR)(
        KnownOrNothingFilter(
            method="filter_missions",
            queryset=Mission.objects.all(),
            to_field_name="acronym",
            distinct=False,
            label=_("Mission"),
        )
    )
    contingent = KnownOrNothingFilter(
        queryset=Contingent.objects.select_related("mission"),
        distinct=False,
        label=_("Contingent"),
    )
    country = django_filters.CharFilter(label=_("Country (ISO alpha-3)"))
    q = django_filters.CharFilter(method="filter_text", label=_("Search"))
    withdrawn = StrictBooleanFilter(
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
        form = IncidentFilterForm

    def filter_area(self, queryset, name, area):
        """Incidents whose location *as the reader sees it* lies in `area`: a reader of
        generalised locations cannot find exact positions with small boxes."""
        return queryset.shown_in(area)

    def filter_missions(self, queryset, name, acronyms):
        # By id, looked up first: compared through a join on the acronym, the planner
        # cannot tell how many incidents a mission has, and reads a whole mission to sort
        # it by id for one page (0.4 s at a million incidents instead of 1 ms).
        if not acronyms:  # no mission asked for (the field gives an empty queryset)
            return queryset
        ids = list(Mission.objects.filter(acronym__in=acronyms).values_list("id", flat=True))
        return queryset.filter(mission_id__in=ids)

    def filter_region(self, queryset, name, value):
        members = Region.objects.filter(code=value).values_list("member_countries", flat=True)
        countries = next(iter(members), [])
        return queryset.filter(country__in=countries)

    def filter_text(self, queryset, name, value):
        # The incidents holding a weapon of that serial are looked up first (a few ids, from
        # the weapons' index in capitals): an OR across a join to the weapons would make
        # every incident row a candidate, and DISTINCT sort them, where each term of this
        # OR reads its own index (incidents' indexes incident_narrative_trgm,
        # incident_actors_trgm, incident_reference_upper, and the primary key).
        serial_ids = list(
            WeaponItem.objects.filter(serial_number__iexact=value)
            .order_by()
            .values_list("incident_id", flat=True)
            .distinct()
        )
        return queryset.filter(
            Q(narrative__icontains=value)
            | Q(actors__icontains=value)
            | Q(external_reference__iexact=value)
            | Q(pk__in=serial_ids)
        )

    @property
    def qs(self):
        incidents = super().qs
        # Withdrawn records stay out of lists unless asked for.
        if self.form.cleaned_data.get("withdrawn") is None:
            incidents = incidents.filter(withdrawn_at__isnull=True)
        return incidents


def filter_kept_counts(counts: QuerySet, filters: dict) -> QuerySet:
    """`counts` (a table of counts the database keeps, whose columns carry the incident's
    names: IncidentMapCell, WeaponFlowCount in incidents/derived/) narrowed
    by the filters (this filterset's cleaned data) that test the incident's own columns:
    kind, context, state, releasability, mission, contingent, country and region. The
    other filters are the caller's to apply, or to refuse."""
    for name in ("kind", "context", "state"):
        if filters.get(name):
            counts = counts.filter(**{f"{name}__in": filters[name]})
    if filters.get("releasability"):
        counts = counts.filter(releasability__in=[int(level) for level in filters["releasability"]])
    if filters.get("mission"):
        ids = Mission.objects.filter(acronym__in=filters["mission"]).values_list("id", flat=True)
        counts = counts.filter(mission_id__in=list(ids))
    if filters.get("contingent"):
        counts = counts.filter(contingent_id__in=[int(key) for key in filters["contingent"]])
    if filters.get("country"):
        counts = counts.filter(country=filters["country"])
    if filters.get("region"):
        members = Region.objects.filter(code=filters["region"]).values_list(
            "member_countries", flat=True
        )
        counts = counts.filter(country__in=next(iter(members), []))
    return counts
