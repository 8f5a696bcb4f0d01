"""The records: incidents, the weapons involved, and their tracing."""

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from armsmonitor.jobs import LeasedJob
from geo.countries import validate_country_code
from incidents.choices import (
    ActorType,
    AgeGroup,
    AlterationMethod,
    AmmunitionCategory,
    AmmunitionState,
    AmmunitionType,
    Condition,
    Context,
    CustodyEventKind,
    DatePrecision,
    Disposition,
    GbvType,
    IncidentKind,
    InformationCredibility,
    LocationPrecision,
    ManufactureMode,
    MarkLocation,
    PersonOutcome,
    PersonRole,
    PhotoSubject,
    Recovery,
    SeizureJustification,
    Sex,
    SourceReliability,
    SourceType,
    TransportMode,
    WeaponCategory,
    WorkflowState,
)
from incidents.component_serials import validate_component_serials
from incidents.history import LeanHistoricalRecords
from incidents.querysets import IncidentQuerySet, WeaponItemQuerySet
from organisations.choices import Releasability


class Incident(models.Model):
    """One event in which weapons or ammunition came under control or were used."""

    kind = models.CharField(_("kind"), max_length=30, choices=IncidentKind.choices)
    external_reference = models.CharField(
        _("external reference"),
        max_length=100,
        blank=True,
        help_text=_(
            "The reporting unit's own reference; a re-import with the same reference "
            "updates nothing and creates no duplicate."
        ),
    )
    occurred_at = models.DateTimeField(_("occurred at"))
    date_precision = models.CharField(
        _("date precision"),
        max_length=8,
        choices=DatePrecision.choices,
        default=DatePrecision.DAY,
    )
    location = models.PointField(_("location"), srid=4326)
    h3_cell = models.BigIntegerField(
        _("H3 cell (resolution 8)"), null=True, blank=True, db_index=True, editable=False
    )
    location_precision = models.CharField(
        _("location precision"),
        max_length=12,
        choices=LocationPrecision.choices,
        default=LocationPrecision.EXACT,
    )
    country = models.CharField(
        _("country"), max_length=3, blank=True, validators=[validate_country_code]
    )
    # Derived with the country (geo/core/borders.py): the point lies within BORDER_TOLERANCE_M of
    # another country, or of a coast, so its country was decided by the rule, not by the
    # boundary alone. A database default: the import writes incidents in SQL.
    near_border = models.BooleanField(
        _("near a border"), default=False, db_default=False, editable=False
    )
    admin_area = models.ForeignKey(
        "geo.AdminArea",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("admin area"),
    )
    nearest_place = models.ForeignKey(
        "geo.Place",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
        verbose_name=_("nearest named place"),
    )
    context = models.CharField(_("context"), max_length=20, choices=Context.choices)
    # Indexed with the id below (incident_mission_order), not alone.
    mission = models.ForeignKey(
        "organisations.Mission",
        on_delete=models.PROTECT,
        related_name="incidents",
        db_index=False,
    )
    contingent = models.ForeignKey(
        "organisations.Contingent", on_delete=models.PROTECT, related_name="incidents"
    )
    actor_type = models.CharField(
        _("actor type"), max_length=20, choices=ActorType.choices, default=ActorType.UNKNOWN
    )
    actors = models.CharField(_("actors"), max_length=300, blank=True)
    narrative = models.TextField(_("narrative"), blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)
    source_reliability = models.CharField(
        _("source reliability"),
        max_length=1,
        choices=SourceReliability.choices,
        default=SourceReliability.F,
    )
    information_credibility = models.CharField(
        _("information credibility"),
        max_length=1,
        choices=InformationCredibility.choices,
        default=InformationCredibility.CANNOT_BE_JUDGED,
        db_default=InformationCredibility.CANNOT_BE_JUDGED,
    )
    source_type = models.CharField(
        _("source type"),
        max_length=12,
        choices=SourceType.choices,
        default=SourceType.UNKNOWN,
        db_default=SourceType.UNKNOWN,
    )
    releasability = models.PositiveSmallIntegerField(
        _("releasability"), choices=Releasability.choices, default=Releasability.MISSION_ONLY
    )
    state = models.CharField(
        _("workflow state"),
        max_length=12,
        choices=WorkflowState.choices,
        default=WorkflowState.DRAFT,
    )
    return_comment = models.TextField(_("comment of the verifier who returned it"), blank=True)
    gbv_link = models.BooleanField(_("linked to gender-based violence"), default=False)
    gbv_type = models.CharField(
        _("type of gender-based violence"),
        max_length=20,
        choices=GbvType.choices,
        blank=True,
        db_default="",
    )
    # The IAFQ's legal justification, and the route of the arms where the seizure documents
    # it (a consignment's papers, a driver's statement): country of departure, transit
    # countries in order, country of destination, and the means of transport.
    seizure_justification = models.CharField(
        _("legal justification of the seizure"),
        max_length=15,
        choices=SeizureJustification.choices,
        default=SeizureJustification.UNKNOWN,
        db_default=SeizureJustification.UNKNOWN,
    )
    transport_mode = models.CharField(
        _("means of transport"),
        max_length=12,
        choices=TransportMode.choices,
        default=TransportMode.UNKNOWN,
        db_default=TransportMode.UNKNOWN,
    )
    route_departure_country = models.CharField(
        _("route: country of departure"),
        max_length=3,
        blank=True,
        db_default="",
        validators=[validate_country_code],
    )
    route_transit_countries = ArrayField(
        models.CharField(max_length=3, validators=[validate_country_code]),
        verbose_name=_("route: transit countries"),
        default=list,
        blank=True,
        db_default=Value([], output_field=ArrayField(models.CharField(max_length=3))),
        help_text=_("ISO 3166-1 alpha-3 codes, in the order crossed, separated by commas."),
    )
    route_destination_country = models.CharField(
        _("route: country of destination"),
        max_length=3,
        blank=True,
        db_default="",
        validators=[validate_country_code],
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_reason = models.TextField(_("reason for withdrawal"), blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reported_incidents",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    # A number the database raises on every UPDATE of the incident, however made (a
    # trigger of migration 0015); the changes to its weapons, ammunition, people, trace
    # requests and custody events raise IncidentPartsRevision's instead. Analyses and
    # reports fingerprint what they read by the two (geo.analyses.source.data_fingerprint),
    # instead of hashing every weapon and trace. An instance may hold a stale value; never
    # written from Python.
    revision = models.BigIntegerField(db_default=0, editable=False)

    objects = IncidentQuerySet.as_manager()
    history = LeanHistoricalRecords(
        excluded_fields=["updated_at", "h3_cell", "nearest_place", "revision"],
        no_db_index=["location", "admin_area", "mission", "contingent", "reported_by"],
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["mission", "occurred_at"]),
            # A mission's incidents in id order: the API's cursor pages (by id) of a reader of
            # one mission read its rows alone. Without it, the first page walked the primary
            # key past every other mission's incidents before finding one of its own (0.44 s
            # behind a million of them; 0.2 ms with it: docs/operators/performance.md). It
            # serves the foreign key's lookups too, in place of an index on the mission alone.
            models.Index(fields=["mission", "id"], name="incident_mission_order"),
            # The few records waiting for a verifier or a reporter (incidents.selectors
            # .work_waiting, counted on every page's top bar).
            models.Index(
                fields=["mission", "contingent"],
                condition=models.Q(state__in=["submitted", "returned"]),
                name="incident_awaiting_hand",
            ),
            # Free text (IncidentFilterSet.filter_text) compares in capitals: trigram indexes
            # of the narrative and the actors answer `icontains` (UPPER(…) LIKE '%…%') and
            # an index of the reference its `iexact`, so that a search reads the matching
            # rows (a bitmap of each) instead of every incident's text.
            GinIndex(
                OpClass(Upper("narrative"), name="gin_trgm_ops"), name="incident_narrative_trgm"
            ),
            GinIndex(OpClass(Upper("actors"), name="gin_trgm_ops"), name="incident_actors_trgm"),
            models.Index(Upper("external_reference"), name="incident_reference_upper"),
            # The few incidents with a documented route, for the flows' routes
            # (geo/analyses/flows.py): read from this index, not by a pass over all.
            models.Index(
                fields=["id"],
                condition=~models.Q(route_departure_country="")
                | ~models.Q(route_destination_country="")
                | ~models.Q(route_transit_countries=[]),
                name="incident_documented_route",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["contingent", "external_reference"],
                condition=~models.Q(external_reference=""),
                name="unique_external_reference_per_contingent",
            )
        ]

    @property
    def route_display(self) -> str:
        """The documented route, "SDN → TCD → CAF", with "?" for an end not known; empty
        when none is documented."""
        if not (
            self.route_departure_country
            or self.route_transit_countries
            or self.route_destination_country
        ):
            return ""
        return " → ".join(
            [
                self.route_departure_country or "?",
                *self.route_transit_countries,
                self.route_destination_country or "?",
            ]
        )

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d} ({self.contingent})"

    @property
    def regions(self):
        """The regional organisations whose member states include the incident's country."""
        from geo.models import Region

        return Region.objects.filter(member_countries__contains=[self.country])


class WeaponItem(models.Model):
    """One weapon, or a group of identical unmarked ones."""

    objects = WeaponItemQuerySet.as_manager()

    # Indexed by weaponitem_flow_groups below, which leads with it.
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="weapons", db_index=False
    )
    category = models.CharField(_("category"), max_length=30, choices=WeaponCategory.choices)
    make = models.CharField(_("make"), max_length=100, blank=True)
    model = models.CharField(_("model"), max_length=100, blank=True)
    calibre = models.CharField(_("calibre"), max_length=40, blank=True)
    # Indexed in capitals (weaponitem_serial_upper): searches compare in any case.
    serial_number = models.CharField(_("serial number"), max_length=60, blank=True)
    markings_altered = models.BooleanField(_("markings altered or obliterated"), default=False)
    country_of_manufacture = models.CharField(
        _("country of manufacture"),
        max_length=3,
        blank=True,
        validators=[validate_country_code],
    )
    year_of_manufacture = models.PositiveSmallIntegerField(
        _("year of manufacture"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1850), MaxValueValidator(2100)],
    )
    quantity = models.PositiveIntegerField(
        _("quantity"), default=1, validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )
    recovery = models.CharField(
        _("recovered or observed"),
        max_length=10,
        choices=Recovery.choices,
        default=Recovery.RECOVERED,
        db_default=Recovery.RECOVERED,
    )
    manufacture_mode = models.CharField(
        _("way of manufacture"),
        max_length=12,
        choices=ManufactureMode.choices,
        default=ManufactureMode.UNKNOWN,
        db_default=ManufactureMode.UNKNOWN,
    )
    factory_markings = models.CharField(_("factory markings"), max_length=200, blank=True)
    import_markings = models.CharField(
        _("import and acquisition markings"), max_length=200, blank=True
    )
    # The marks of ISACS 05.30 (6.2-6.4): import mark's country and year, State ownership.
    import_country = models.CharField(
        _("import mark: country"),
        max_length=3,
        blank=True,
        db_default="",
        validators=[validate_country_code],
    )
    import_year = models.PositiveSmallIntegerField(
        _("import mark: year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1850), MaxValueValidator(2100)],
    )
    state_ownership_mark = models.CharField(
        _("State-ownership mark"), max_length=100, blank=True, db_default=""
    )
    alteration_location = models.CharField(
        _("mark altered"), max_length=12, choices=MarkLocation.choices, blank=True, db_default=""
    )
    alteration_method = models.CharField(
        _("how it was altered"),
        max_length=12,
        choices=AlterationMethod.choices,
        blank=True,
        db_default="",
    )
    restored_serial_number = models.CharField(
        _("serial number restored (forensically)"), max_length=60, blank=True, db_default=""
    )
    component_serials = models.JSONField(
        _("serial numbers of components"),
        default=list,
        db_default=Value([], output_field=models.JSONField()),
        blank=True,
        validators=[validate_component_serials],
        help_text=_('A list of {"component": "barrel", "serial": "A123"}.'),
    )
    other_markings = models.TextField(_("other markings"), blank=True)
    condition = models.CharField(
        _("condition"), max_length=15, choices=Condition.choices, default=Condition.UNKNOWN
    )
    disposition = models.CharField(
        _("current disposition"),
        max_length=15,
        choices=Disposition.choices,
        default=Disposition.HELD,
    )

    # Where the item was seized and where it came from, stored on the item so that flow
    # analyses (geo/analyses/flows.py) group a million items without joining their
    # incidents and traces. Derived, never edited: PostgreSQL triggers installed by
    # migration 0008_weapon_flow_columns (the items' function extended by 0012 to copy the
    # origin trace's route) keep them right on every write path (forms, services, admin,
    # imports, seed scripts, raw SQL), from the incident's country and date, the item's
    # country of manufacture and its trace requests. An instance just saved may hold
    # stale values; read them from the database.
    seized_in = models.CharField(max_length=3, blank=True, editable=False)
    seized_at = models.DateTimeField(editable=False)
    # The weapon's established illicit origin (SDG 16.4.2 metadata; UNODC IAFQ, tracing
    # results), never its country of manufacture, which says where it was made and not
    # whence it was diverted: its IllicitOrigin record (incidents/origins.py) where there is
    # one, else the latest trace request that established a point of diversion.
    # `origin_source` is how it was established (an OriginMethod value: "trace",
    # "authority", "investigation", "marking"), blank when no origin is established;
    # `origin_kind` its OriginKind, or "not_recorded" for a trace's answer without a record;
    # `origin_country` the country of diversion, blank where it is not known.
    origin_country = models.CharField(max_length=3, blank=True, editable=False)
    origin_source = models.CharField(max_length=15, blank=True, editable=False)
    origin_kind = models.CharField(max_length=20, blank=True, editable=False, db_default="")
    origin_trace = models.ForeignKey(
        "TraceRequest",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_index=True,
        editable=False,
    )
    # The trace that established the origin (the one the record names, else the latest),
    # and the route for the flow lines: the point of diversion (the record's, else the
    # trace's) and the trace's transit countries (null, not empty, when it lists none).
    origin_point = models.PointField(
        srid=4326, null=True, blank=True, editable=False, spatial_index=False
    )
    origin_transit = ArrayField(
        models.CharField(max_length=3), null=True, blank=True, editable=False
    )
    # The month of seizure (UTC) as one number, year × 12 + month − 1, computed by the
    # database from seized_at (migration 0010): flows bucket a million items by month,
    # quarter or year with an integer division instead of a time-zone conversion each.
    # (date_part of the UTC wall-clock time: immutable, as a stored generated column must be.)
    seized_month = models.GeneratedField(
        expression=RawSQL(
            "(date_part('year', seized_at AT TIME ZONE 'UTC') * 12"
            " + date_part('month', seized_at AT TIME ZONE 'UTC') - 1)::integer",
            (),
        ),
        output_field=models.IntegerField(),
        db_persist=True,
    )

    # The incident's columns that the access policy and the incident filters test, copied
    # by the same triggers (migration 0014_weapon_flow_counts), so that the counts of items
    # kept per flow (incidents/derived/flow_counts.py) follow from the item rows alone: a change to
    # the incident rewrites its items, and the items' statement triggers move their counts.
    incident_mission_id = models.IntegerField(editable=False)
    incident_contingent_id = models.IntegerField(editable=False)
    incident_state = models.CharField(max_length=12, editable=False)
    incident_releasability = models.PositiveSmallIntegerField(editable=False)
    incident_kind = models.CharField(max_length=30, editable=False)
    incident_context = models.CharField(max_length=20, editable=False)
    # (A default, unlike the others: model validation refuses a None boolean, and the
    # trigger sets the value only on writing.)
    incident_withdrawn = models.BooleanField(default=False, editable=False)

    # The derived columns are left out of the history: they are not the record's content,
    # and the triggers set them after the history row is written from the instance.
    history = HistoricalRecords(
        excluded_fields=[
            "seized_in",
            "seized_at",
            "origin_country",
            "origin_source",
            "origin_kind",
            "origin_trace",
            "origin_point",
            "origin_transit",
            "seized_month",
            "incident_mission_id",
            "incident_contingent_id",
            "incident_state",
            "incident_releasability",
            "incident_kind",
            "incident_context",
            "incident_withdrawn",
        ]
    )

    class Meta:
        ordering = ["incident", "id"]
        indexes = [
            models.Index(fields=["make", "serial_number"]),
            models.Index(Upper("serial_number"), name="weaponitem_serial_upper"),
            # An incident's items, and the flows' pass over them (geo/analyses/flows.py,
            # where they were made): all the columns it groups by, in incident order, so
            # that it reads this index alone and merges it with the chosen incidents. The
            # only index on `incident`: beside a plain one, the planner's costs of the two
            # came within a few percent, and it sometimes took the plain one and read the
            # table too (0.1 s more at a million items).
            models.Index(
                fields=["incident"],
                include=[
                    "country_of_manufacture",
                    "seized_in",
                    "category",
                    "seized_month",
                    "quantity",
                    "recovery",
                ],
                name="weaponitem_flow_groups",
            ),
            # The flows' pass over the recovered items whose illicit origin is established (a
            # small share of all) reads this index alone.
            models.Index(
                fields=["incident"],
                include=[
                    "origin_country",
                    "origin_source",
                    "origin_kind",
                    "seized_in",
                    "category",
                    "seized_month",
                    "quantity",
                    "origin_point",
                    "origin_transit",
                ],
                condition=~models.Q(origin_source="") & models.Q(recovery="recovered"),
                name="weaponitem_established_origins",
            ),
        ]

    def possible_duplicates(self):
        """Other items on record with the same make and serial number."""
        if not self.serial_number:
            return WeaponItem.objects.none()
        return WeaponItem.objects.filter(
            make__iexact=self.make, serial_number__iexact=self.serial_number
        ).exclude(pk=self.pk)

    def __str__(self) -> str:
        return " ".join(filter(None, [self.make, self.model, self.serial_number])) or str(
            self.get_category_display()
        )


class AmmunitionItem(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="ammunition")
    calibre = models.CharField(_("calibre"), max_length=40)
    category = models.CharField(
        _("kind of ammunition"),
        max_length=15,
        choices=AmmunitionCategory.choices,
        default=AmmunitionCategory.SMALL_ARMS_CARTRIDGE,
        db_default=AmmunitionCategory.SMALL_ARMS_CARTRIDGE,
    )
    ammunition_type = models.CharField(
        _("type"), max_length=20, choices=AmmunitionType.choices, default=AmmunitionType.BALL
    )
    state = models.CharField(
        _("live or spent"),
        max_length=8,
        choices=AmmunitionState.choices,
        default=AmmunitionState.LIVE,
        db_default=AmmunitionState.LIVE,
    )
    country_of_manufacture = models.CharField(
        _("country of manufacture"),
        max_length=3,
        blank=True,
        db_default="",
        validators=[validate_country_code],
    )
    packaging_markings = models.CharField(
        _("packaging and crate markings"), max_length=200, blank=True, db_default=""
    )
    headstamp_manufacturer = models.CharField(
        _("headstamp: manufacturer code"), max_length=40, blank=True
    )
    headstamp_year = models.PositiveSmallIntegerField(
        _("headstamp: year"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1850), MaxValueValidator(2100)],
    )
    lot = models.CharField(_("lot"), max_length=60, blank=True)
    quantity = models.PositiveIntegerField(
        _("quantity (units of its kind)"),
        validators=[MinValueValidator(1), MaxValueValidator(10_000_000)],
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["incident", "id"]
        verbose_name_plural = _("ammunition items")

    def __str__(self) -> str:
        return f"{self.quantity} × {self.calibre}"


class PersonsInvolved(models.Model):
    """How many people of one role, sex and age group were involved: the gender-
    disaggregated figures that WPS analysis needs, without naming anyone."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="persons")
    role = models.CharField(_("role"), max_length=15, choices=PersonRole.choices)
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices)
    age_group = models.CharField(_("age group"), max_length=10, choices=AgeGroup.choices)
    outcome = models.CharField(
        _("outcome"),
        max_length=10,
        choices=PersonOutcome.choices,
        default=PersonOutcome.UNKNOWN,
        db_default=PersonOutcome.UNKNOWN,
    )
    count = models.PositiveIntegerField(
        _("number of people"), validators=[MinValueValidator(1), MaxValueValidator(10_000)]
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["incident", "role", "sex", "age_group", "outcome"]
        verbose_name_plural = _("persons involved")
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "role", "sex", "age_group", "outcome"],
                name="one_count_per_person_group_and_outcome",
            )
        ]

    def __str__(self) -> str:
        return f"{self.count} {self.get_sex_display()} {self.get_role_display()}"


class CustodyEvent(models.Model):
    """One link of a weapon's chain of custody. Append-only (database triggers refuse
    updates, deletes and TRUNCATE); each event carries the keyed hash of the one before, so
    that a changed or removed event breaks the chain visibly, and each append records the
    chain's head (incidents/custody_heads.py) for `manage.py verify_custody_chains`."""

    weapon = models.ForeignKey(WeaponItem, on_delete=models.PROTECT, related_name="custody_events")
    sequence = models.PositiveIntegerField()
    kind = models.CharField(_("event"), max_length=15, choices=CustodyEventKind.choices)
    occurred_at = models.DateTimeField(_("when"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    place = models.CharField(_("where"), max_length=200, blank=True)
    transferred_to = models.CharField(_("transferred to"), max_length=200, blank=True)
    destruction_method = models.CharField(_("destroyed how"), max_length=200, blank=True)
    witnessed_by = models.CharField(_("witnessed by"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    previous_hash = models.CharField(max_length=64)
    # HMAC-SHA256 of the event (incidents/custody_hashing.py) with the key named by key_id,
    # one of CUSTODY_HMAC_KEYS: kept outside the database, so its owner cannot recompute it.
    hash = models.CharField(max_length=64, unique=True)
    key_id = models.CharField(max_length=20)

    class Meta:
        ordering = ["weapon", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["weapon", "sequence"], name="one_event_per_position")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d} ({self.weapon})"


def _photo_path(attachment: "Photo", filename: str) -> str:
    # The stored name is the content's hash: no user-chosen name reaches the file system.
    return f"photos/{attachment.sha256[:2]}/{attachment.sha256}.{attachment.extension}"


class Photo(models.Model):
    """A photo of an incident or of one of its weapons, checked and re-encoded on upload."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="photos")
    weapon = models.ForeignKey(
        WeaponItem, on_delete=models.CASCADE, null=True, blank=True, related_name="photos"
    )
    image = models.ImageField(upload_to=_photo_path)
    shows = ArrayField(
        models.CharField(max_length=15, choices=PhotoSubject.choices),
        verbose_name=_("shows"),
        default=list,
        blank=True,
        db_default=Value([], output_field=ArrayField(models.CharField(max_length=15))),
    )
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    extension = models.CharField(max_length=5)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["incident", "uploaded_at"]

    @property
    def shows_display(self) -> list[str]:
        return [str(PhotoSubject(code).label) for code in self.shows]

    def __str__(self) -> str:
        # What it shows, so that the photos of marks stand out where they are chosen (the
        # trace request's photos).
        if self.shows:
            return f"{self.original_name} ({', '.join(self.shows_display)})"
        return self.original_name


class ImportJob(LeasedJob):
    """One uploaded import file and what became of it."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Imported")
        REFUSED = "refused", _("Refused: nothing imported")
        FAILED = "failed", _("Failed")

    PROGRESS_FIELDS = ("rows_checked", "stage")

    file = models.FileField(upload_to="imports/%Y/%m/")
    file_format = models.CharField(max_length=10)
    original_name = models.CharField(max_length=200)
    contingent = models.ForeignKey(
        "organisations.Contingent", on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    rows_checked = models.PositiveIntegerField(default=0)
    stage = models.CharField(max_length=20, blank=True)
    report = models.JSONField(default=dict, blank=True)
    # The language of the page the file was sent from: the report's problems are in it.
    language = models.CharField(max_length=10, default="en")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_state_display()})"

    @property
    def error_message(self) -> str:
        return (self.report or {}).get("file_error", "")

    def failure_values(self, message: str) -> dict:
        # The import's page reads why it failed where it reads the file's problems.
        return {
            "stage": "done",
            "report": {
                "problem_count": 0,
                "problems": [],
                **(self.report or {}),
                "ok": False,
                "file_error": message,
            },
        }


class APIIdempotencyKey(models.Model):
    """A write through the API under a client's `Idempotency-Key`: the request it was used
    for (a fingerprint of the body) and the answer given, replayed when the same request
    comes again. The row is claimed in the write's transaction, so a failed write leaves
    no key behind, and two requests with one key make one record. Keys are kept for
    IDEMPOTENCY_KEY_LIFETIME (24 hours, incidents/api/idempotency.py); after that, the key
    may name another request."""

    # Whose key: a signed-in user's, or an agency's API key's (each key its own keys, as
    # each has its own request budget); one of the two.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+"
    )
    api_key = models.ForeignKey(
        "organisations.AgencyAPIKey", on_delete=models.CASCADE, null=True, related_name="+"
    )
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, help_text=_("SHA-256 of the request."))
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("API idempotency key")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_idempotency_key_per_user"),
            models.UniqueConstraint(
                fields=["api_key", "key"], name="one_idempotency_key_per_api_key"
            ),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, api_key__isnull=True)
                | models.Q(user__isnull=True, api_key__isnull=False),
                name="idempotency_key_of_a_user_or_an_api_key",
            ),
        ]

    def __str__(self) -> str:
        return self.key


class IncidentPartsRevision(models.Model):
    """A number the database raises on every change to what an incident's record holds
    besides the incident itself: its weapons (what they say, not what the flow triggers
    derive), ammunition, people involved, and its weapons' trace requests and custody
    events. Written only by the statement triggers of migration 0015, once per statement
    per incident touched. Kept apart from the incident so that those writes neither lock
    the incident nor make the map's kept counts (geo 0005-0009), which follow every update
    of an incident, move its counts out and back in."""

    incident = models.OneToOneField(
        Incident,
        on_delete=models.CASCADE,
        primary_key=True,
        # No foreign-key check: a row left behind by a raw-SQL delete of its incident is
        # never read (the fingerprints start from the incidents).
        db_constraint=False,
        related_name="parts_revision",
    )
    revision = models.BigIntegerField()

    def __str__(self) -> str:
        return f"incident {self.incident_id}: parts revision {self.revision}"


from incidents.custody_heads import CustodyChainHead  # noqa: E402, F401
from incidents.derived.flow_counts import WeaponFlowCount  # noqa: E402, F401
from incidents.derived.map_cells import IncidentMapCell, IncidentMapChange  # noqa: E402, F401
from incidents.manufacturers import Manufacturer, ManufacturerAlias  # noqa: E402, F401
from incidents.notification_model import Notification  # noqa: E402, F401
from incidents.origins import IllicitOrigin  # noqa: E402, F401
from incidents.registry.models import (  # noqa: E402, F401
    HitCheck,
    RegistryEntry,
    RegistrySerial,
    WeaponHit,
    WeaponSerial,
)
from incidents.trace_requests import TraceRequest  # noqa: E402, F401
