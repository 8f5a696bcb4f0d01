import rules
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from armsmonitor.openapi import POINT_SCHEMA
from geo.core.borders import location_doubt
from geo.core.coordinates import parse_coordinates
from incidents.choices import (
    TRACE_OUTCOMES,
    GbvType,
    LocationPrecision,
    OriginKind,
    OriginMethod,
    TraceFailureReason,
    TraceStatus,
    WeaponComponent,
    coarser_precision,
    precision_of,
)
from incidents.component_serials import MOST_COMPONENTS, SERIAL_LENGTH
from incidents.forms import AMMUNITION_FIELDS, PERSONS_FIELDS, SEIZURE_FIELDS
from incidents.forms import WEAPON_FIELDS as FORM_WEAPON_FIELDS
from incidents.imports.columns import COUNTRY_CODES
from incidents.models import (
    AmmunitionItem,
    IllicitOrigin,
    Incident,
    PersonsInvolved,
    Photo,
    TraceRequest,
    WeaponItem,
)
from incidents.registry.choices import HitReason, MakeAgreement
from incidents.registry.serials import serial_key
from incidents.services import TRACE_REQUEST_DETAILS
from incidents.trace_requests import trace_refusal
from organisations.models import Contingent

# Items in one request; more come through the bulk import.
MAX_ITEMS = 1000


@extend_schema_field(POINT_SCHEMA)
class ShownLocationField(serializers.Field):
    """The location a reader may see, as a GeoJSON point, from the `shown_longitude` and
    `shown_latitude` of `IncidentQuerySet.with_api_labels` (on an incident or on a row of
    `.values()`)."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value):
        if isinstance(value, dict):
            longitude, latitude = value["shown_longitude"], value["shown_latitude"]
        else:
            longitude, latitude = value.shown_longitude, value.shown_latitude
        return {"type": "Point", "coordinates": [round(longitude, 6), round(latitude, 6)]}


class IncidentSerializer(serializers.ModelSerializer):
    """An incident as lists show it. It reads the columns of `with_api_labels`, so that a
    page can be serialized from `.values()` rows (see `LIST_COLUMNS`)."""

    location = ShownLocationField()
    location_is_exact = serializers.BooleanField(read_only=True)
    mission = serializers.CharField(source="mission_acronym", read_only=True)
    contingent = serializers.CharField(source="contingent_label", read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "kind",
            "occurred_at",
            "location",
            "location_is_exact",
            "location_precision",
            "country",
            "context",
            "mission",
            "contingent",
            "releasability",
            "state",
            "updated_at",
            "withdrawn_at",
        ]
        read_only_fields = fields


# The columns a page of IncidentSerializer reads, for `.values()`.
LIST_COLUMNS = (
    *(
        name
        for name in IncidentSerializer.Meta.fields
        if name not in ("location", "mission", "contingent")
    ),
    "mission_acronym",
    "contingent_label",
    "shown_longitude",
    "shown_latitude",
)


# --- writes -----------------------------------------------------------------------------

# What is recorded of each item, as on the entry form; the API leaves out the weapon's
# disposition, which custody events set (a new record's weapons are held).
WEAPON_FIELDS = [field for field in FORM_WEAPON_FIELDS if field != "disposition"]


class ComponentSerialSerializer(serializers.Serializer):
    """One part's serial number (incidents/component_serials.py)."""

    component = serializers.ChoiceField(choices=WeaponComponent.choices)
    serial = serializers.CharField(max_length=SERIAL_LENGTH)


class WeaponItemSerializer(serializers.ModelSerializer):
    component_serials = ComponentSerialSerializer(
        many=True, required=False, max_length=MOST_COMPONENTS
    )

    class Meta:
        model = WeaponItem
        fields = ["id", *WEAPON_FIELDS]
        read_only_fields = ["id"]


class AmmunitionItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = AmmunitionItem
        fields = ["id", *AMMUNITION_FIELDS]
        read_only_fields = ["id"]


class PersonsInvolvedSerializer(serializers.ModelSerializer):
    class Meta:
        model = PersonsInvolved
        fields = ["id", *PERSONS_FIELDS]
        read_only_fields = ["id"]


class IncidentCreateSerializer(serializers.ModelSerializer):
    """A new incident with its items. The location is `coordinates` (text, as the entry form
    takes it: decimal degrees, degrees-minutes-seconds or MGRS) or `latitude` and
    `longitude` (decimal degrees, WGS 84)."""

    contingent = serializers.PrimaryKeyRelatedField(
        queryset=Contingent.objects.all(),
        help_text="The id of the reporting contingent; the caller must report for it.",
    )
    coordinates = serializers.CharField(
        required=False,
        max_length=100,
        help_text="4.3671, 18.5837 or 4°22'01\"N 18°35'01\"E or 34NBK3182283135.",
    )
    latitude = serializers.FloatField(required=False, min_value=-90, max_value=90)
    longitude = serializers.FloatField(required=False, min_value=-180, max_value=180)
    location_confirmed = serializers.BooleanField(
        required=False,
        default=False,
        write_only=True,
        help_text="true confirms a point the API doubts (0, 0; latitude and longitude "
        "swapped; outside the mission's area of operations or host countries), which is "
        "otherwise refused with a 400 naming `location_confirmed` and the reason.",
    )
    weapons = WeaponItemSerializer(many=True, required=False, max_length=MAX_ITEMS)
    ammunition = AmmunitionItemSerializer(many=True, required=False, max_length=MAX_ITEMS)
    persons = PersonsInvolvedSerializer(many=True, required=False, max_length=MAX_ITEMS)

    class Meta:
        model = Incident
        fields = [
            "contingent",
            "kind",
            "occurred_at",
            "date_precision",
            "coordinates",
            "latitude",
            "longitude",
            "location_precision",
            "location_confirmed",
            "context",
            "actor_type",
            "actors",
            "narrative",
            "source",
            "source_type",
            "source_reliability",
            "information_credibility",
            "releasability",
            "gbv_link",
            "gbv_type",
            *SEIZURE_FIELDS,
            "external_reference",
            "weapons",
            "ammunition",
            "persons",
        ]
        # The unique external reference per contingent is the service's to check.
        validators = []

    def validate(self, attrs):
        text = attrs.pop("coordinates", None)
        latitude, longitude = attrs.pop("latitude", None), attrs.pop("longitude", None)
        numbers = latitude is not None or longitude is not None
        if text is not None and numbers:
            raise serializers.ValidationError(
                {"coordinates": [_("Give coordinates or latitude and longitude, not both.")]}
            )
        if text is not None:
            try:
                parsed = parse_coordinates(text)
            except DjangoValidationError as error:
                raise serializers.ValidationError({"coordinates": error.messages}) from error
            latitude, longitude = parsed.latitude, parsed.longitude
            # A point written coarsely (an MGRS 1 km square, one decimal) is no more precise
            # than it was written, whatever precision was chosen (as in the entry form).
            attrs["location_precision"] = coarser_precision(
                attrs.get("location_precision", LocationPrecision.EXACT),
                precision_of(uncertainty_m=parsed.uncertainty_m),
            )
        elif latitude is None or longitude is None:
            missing = "latitude" if latitude is None else "longitude"
            if not numbers:
                missing = "coordinates"
            raise serializers.ValidationError(
                {
                    missing: [
                        _(
                            "Give the location: coordinates (text), or latitude and longitude "
                            "(decimal degrees)."
                        )
                    ]
                }
            )
        attrs["location"] = Point(longitude, latitude, srid=4326)
        contingent = attrs.get("contingent")
        if not attrs.pop("location_confirmed", False) and contingent is not None:
            # Never written silently, as in the form and the import (geo/core/borders.py).
            doubt = location_doubt(
                longitude=longitude,
                latitude=latitude,
                host_countries=contingent.mission.host_countries,
                area_of_operations=contingent.mission.area_of_operations,
            )
            if doubt:
                raise serializers.ValidationError(
                    {"location_confirmed": [f"{doubt}. Correct it, or send true to confirm it."]}
                )
        return attrs


class IncidentCreatedSerializer(IncidentSerializer):
    """The incident as created, with its items and their ids."""

    weapons = WeaponItemSerializer(many=True, read_only=True)
    ammunition = AmmunitionItemSerializer(many=True, read_only=True)
    persons = PersonsInvolvedSerializer(many=True, read_only=True)

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "weapons", "ammunition", "persons"]
        read_only_fields = fields


# --- reads of the records' items ----------------------------------------------------------


# A trace request's fields as sent (ISACS 05.31, ITI paragraph 17), read and written alike.
TRACE_REQUEST_SENT_FIELDS = [
    "weapon",
    "follows",
    "addressee",
    *TRACE_REQUEST_DETAILS,
    "photos_sent",
    "sent_on",
]


class TraceRequestSerializer(serializers.ModelSerializer):
    """A trace request with everything it said and what became of it (ISACS 05.31)."""

    diversion_point = serializers.SerializerMethodField()
    component_serials = ComponentSerialSerializer(many=True, read_only=True)

    class Meta:
        model = TraceRequest
        fields = [
            "id",
            *TRACE_REQUEST_SENT_FIELDS,
            "acknowledged_on",
            "reminder_sent_on",
            "answered_on",
            "status",
            "failure_reason",
            "failure_detail",
            "forwarded_to",
            "diversion_established",
            "diversion_country",
            "diversion_point",
            "last_legal_end_user",
            "transit_countries",
        ]
        read_only_fields = fields

    @extend_schema_field({**POINT_SCHEMA, "nullable": True})
    def get_diversion_point(self, trace: TraceRequest) -> dict | None:
        # Read from TraceRequest.objects.visible_to: exact only where the caller may see
        # the incident's location exactly.
        point = trace.shown_diversion_point
        if point is None:
            return None
        return {"type": "Point", "coordinates": [round(point.x, 6), round(point.y, 6)]}


class TraceRequestSendSerializer(serializers.ModelSerializer):
    """A trace request sent: one weapon (an item of quantity 1) with its serial, and what
    the request said. `follows` is the id of the earlier request on the same weapon that
    this one continues (manufacturer → exporter → importer); `photos_sent` ids of the
    record's photos."""

    weapon = serializers.PrimaryKeyRelatedField(queryset=WeaponItem.objects.none())
    follows = serializers.PrimaryKeyRelatedField(
        queryset=TraceRequest.objects.none(), required=False, allow_null=True
    )
    photos_sent = serializers.PrimaryKeyRelatedField(
        queryset=Photo.objects.none(), many=True, required=False
    )
    component_serials = ComponentSerialSerializer(
        many=True, required=False, max_length=MOST_COMPONENTS
    )

    class Meta:
        model = TraceRequest
        fields = TRACE_REQUEST_SENT_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:  # the schema's instance: no caller, no choices
            return
        visible = Incident.objects.visible_to(request.user).values("id")
        self.fields["weapon"].queryset = WeaponItem.objects.filter(incident__in=visible)
        self.fields["follows"].queryset = TraceRequest.objects.filter(weapon__incident__in=visible)
        self.fields["photos_sent"].child_relation.queryset = Photo.objects.filter(
            incident__in=visible
        )

    def validate_weapon(self, weapon: WeaponItem) -> WeaponItem:
        refusal = trace_refusal(weapon)
        if refusal:
            raise serializers.ValidationError(refusal["weapon"])
        return weapon


class TraceRequestProgressSerializer(serializers.Serializer):
    acknowledged_on = serializers.DateField(required=False, allow_null=True)
    reminder_sent_on = serializers.DateField(required=False, allow_null=True)
    response_due_on = serializers.DateField(required=False, allow_null=True)


class TraceRequestAnswerSerializer(serializers.Serializer):
    """The answer: its outcome (`status`), why a negative one failed, and, for a trace,
    the point of diversion. `diversion_coordinates` as the entry form takes them."""

    answered_on = serializers.DateField()
    status = serializers.ChoiceField(
        choices=[(code, TraceStatus(code).label) for code in TRACE_OUTCOMES],
        required=False,
        allow_null=True,
        help_text="Left out: answered when the point of diversion was established, else "
        "closed_untraced.",
    )
    failure_reason = serializers.ChoiceField(
        choices=TraceFailureReason.choices, required=False, allow_blank=True, default=""
    )
    failure_detail = serializers.CharField(required=False, allow_blank=True, default="")
    forwarded_to = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200
    )
    diversion_established = serializers.BooleanField(required=False, default=False)
    diversion_country = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=3
    )
    diversion_coordinates = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100
    )
    last_legal_end_user = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200
    )
    transit_countries = serializers.ListField(
        child=serializers.CharField(max_length=3), required=False, default=list, max_length=50
    )

    def validate_diversion_country(self, value: str) -> str:
        return value.upper()

    def validate_transit_countries(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(code.upper() for code in value))

    def validate(self, attrs):
        text = attrs.pop("diversion_coordinates")
        attrs["diversion_point"] = None
        if text:
            try:
                parsed = parse_coordinates(text)
            except DjangoValidationError as error:
                raise serializers.ValidationError(
                    {"diversion_coordinates": error.messages}
                ) from error
            attrs["diversion_point"] = Point(parsed.longitude, parsed.latitude, srid=4326)
        return attrs


# Derived by the database from the incident, the illicit-origin record and the traces (see
# WeaponItem): where the item was seized and its established illicit origin (country,
# method, kind; blank where none is established), the columns of the flow analyses.
WEAPON_FLOW_FIELDS = ["seized_in", "seized_at", "origin_country", "origin_source", "origin_kind"]


# The point of diversion stays out of the API: generalised readers must not get it exact,
# and the country and date are what the outputs use.
ILLICIT_ORIGIN_FIELDS = [
    "method",
    "kind",
    "trace",
    "diversion_country",
    "diversion_date",
    "established_by",
    "established_on",
    "notes",
]


class IllicitOriginSerializer(serializers.ModelSerializer):
    """An illicit origin established for a weapon (incidents/origins.py)."""

    class Meta:
        model = IllicitOrigin
        fields = ["id", "weapon", *ILLICIT_ORIGIN_FIELDS]
        read_only_fields = fields


class IllicitOriginWriteSerializer(serializers.Serializer):
    """What POST /api/v1/illicit-origins takes; the service checks the rules."""

    weapon = serializers.IntegerField()
    method = serializers.ChoiceField(choices=OriginMethod.choices)
    kind = serializers.ChoiceField(choices=OriginKind.choices)
    trace = serializers.IntegerField(required=False, allow_null=True)
    diversion_country = serializers.ChoiceField(
        choices=["", *COUNTRY_CODES], required=False, allow_blank=True
    )
    diversion_date = serializers.DateField(required=False, allow_null=True)
    established_by = serializers.CharField(max_length=200)
    established_on = serializers.DateField()
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


class WeaponRecordSerializer(serializers.ModelSerializer):
    """A weapon on record, with its disposition, its flow columns, its traces' ids and the
    illicit origin established for it (null if none)."""

    illicit_origin = IllicitOriginSerializer(read_only=True, allow_null=True, default=None)
    component_serials = ComponentSerialSerializer(many=True, read_only=True)
    manufacturer = serializers.CharField(
        source="manufacturer_name",
        read_only=True,
        allow_null=True,
        help_text="The manufacturer of the controlled list that `make` names, or null.",
    )

    class Meta:
        model = WeaponItem
        fields = [
            "id",
            "incident",
            *FORM_WEAPON_FIELDS,
            *WEAPON_FLOW_FIELDS,
            "manufacturer",
            "trace_requests",
            "illicit_origin",
        ]
        read_only_fields = fields


class AmmunitionRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = AmmunitionItem
        fields = ["id", "incident", *AMMUNITION_FIELDS]
        read_only_fields = fields


class IncidentDetailSerializer(IncidentSerializer):
    """One incident whole: its narrative and items. The people involved (counts by sex) and
    the link to gender-based violence are gender data: null for readers not allowed it."""

    weapons = WeaponRecordSerializer(many=True, read_only=True)
    ammunition = AmmunitionRecordSerializer(many=True, read_only=True)
    persons = serializers.SerializerMethodField()
    gbv_link = serializers.SerializerMethodField()
    gbv_type = serializers.SerializerMethodField()

    class Meta(IncidentSerializer.Meta):
        fields = [
            *IncidentSerializer.Meta.fields,
            "date_precision",
            "external_reference",
            "actor_type",
            "actors",
            "narrative",
            "source",
            "source_type",
            "source_reliability",
            "information_credibility",
            "gbv_link",
            "gbv_type",
            *SEIZURE_FIELDS,
            "weapons",
            "ammunition",
            "persons",
        ]
        read_only_fields = fields

    def _reads_gender_data(self) -> bool:
        request = self.context.get("request")
        return bool(request and rules.has_perm("incidents.view_gender_data", request.user))

    @extend_schema_field(PersonsInvolvedSerializer(many=True, allow_null=True))
    def get_persons(self, incident: Incident) -> list | None:
        if not self._reads_gender_data():
            return None
        return PersonsInvolvedSerializer(incident.persons.all(), many=True).data

    @extend_schema_field({"type": "boolean", "nullable": True})
    def get_gbv_link(self, incident: Incident) -> bool | None:
        return incident.gbv_link if self._reads_gender_data() else None

    @extend_schema_field({"type": "string", "nullable": True, "enum": [*GbvType.values, ""]})
    def get_gbv_type(self, incident: Incident) -> str | None:
        return incident.gbv_type if self._reads_gender_data() else None


def flat_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors ({"weapons": [{}, {"category": [...]}]}) as one level, each named
    by its path: {"weapons[1].category": [...]}."""
    if isinstance(detail, dict):
        flat = {}
        for name, value in detail.items():
            if isinstance(name, int):  # a list's items, by their index
                key = f"{prefix}[{name}]"
            elif not prefix:
                key = name
            else:
                key = prefix if name == "non_field_errors" else f"{prefix}.{name}"
            flat.update(flat_errors(value, key))
        return flat
    if isinstance(detail, list) and any(isinstance(value, dict | list) for value in detail):
        flat = {}
        for index, value in enumerate(detail):
            if value:
                flat.update(flat_errors(value, f"{prefix}[{index}]"))
        return flat
    return {prefix or "non_field_errors": [str(message) for message in detail]}


class SerialSearchQuerySerializer(serializers.Serializer):
    """The serial search's query: a serial as read off the weapon (`?` for an unreadable
    character, `*` for a run of them) and, optionally, its make."""

    serial = serializers.CharField(min_length=1, max_length=60, trim_whitespace=True)
    make = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)

    def validate_serial(self, value: str) -> str:
        if not serial_key(value).strip("?*"):
            raise serializers.ValidationError(_("Give at least one readable character."))
        return value


class SerialSearchMatchSerializer(serializers.Serializer):
    """One match: `visible` says whether the caller may read the record; if not, `id` and
    `serial` are null and blank, and `message` says whom to ask for access."""

    source = serializers.ChoiceField(choices=["registry", "seizure"])  # type: ignore[assignment]
    visible = serializers.BooleanField()
    id = serializers.IntegerField(allow_null=True)
    serial = serializers.CharField(allow_blank=True)
    score = serializers.FloatField()
    reason = serializers.ChoiceField(choices=HitReason.choices)
    make_agreement = serializers.ChoiceField(choices=MakeAgreement.choices)
    held_by = serializers.CharField()
    message = serializers.CharField(allow_blank=True)


class SerialSearchSerializer(serializers.Serializer):
    matches = SerialSearchMatchSerializer(many=True)
