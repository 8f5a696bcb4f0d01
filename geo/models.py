"""Places: country and admin boundaries, regional organisations, and a gazetteer."""

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.utils.translation import gettext_lazy as _

from armsmonitor.jobs import LeasedJob
from geo.countries import country_name, validate_country_code
from geo.querysets import AnalysisRunQuerySet


class Country(models.Model):
    """A country's boundary, keyed by its ISO 3166-1 alpha-3 code."""

    iso3 = models.CharField(
        _("ISO 3166-1 alpha-3"),
        max_length=3,
        primary_key=True,
        validators=[validate_country_code],
    )
    name = models.CharField(_("name"), max_length=200)
    boundary = models.MultiPolygonField(_("boundary"), srid=4326)
    source = models.CharField(
        _("source"), max_length=200, help_text=_("Data set and version the boundary came from.")
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("countries")

    def __str__(self) -> str:
        """The UN name in the active language (`name` is the stored English one)."""
        un_name = country_name(self.iso3)
        return self.name if un_name == self.iso3 else un_name


class CountryPart(models.Model):
    """A country boundary cut into pieces of a few hundred vertices (ST_Subdivide), so that
    point-in-polygon tests touch small polygons instead of, say, all of Russia."""

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="parts")
    part = models.PolygonField(srid=4326)


class CountryEdge(models.Model):
    """A country's boundary line in pieces, and the rings of its parts in short pieces
    (geo.core.borders.COUNTRY_EDGES). A map cell that no piece of boundary comes near lies
    wholly inside one country (or wholly outside all), which lets bulk imports assign the
    country of most points per cell instead of per point; the distance from a point to a
    country it is not in is the distance to the nearest piece of its parts' rings
    (geo_country_near)."""

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="edges")
    edge = models.GeometryField(srid=4326)
    # False: a piece of the boundary line; true: a piece of a part's ring.
    part_ring = models.BooleanField(default=False)


class AdminArea(models.Model):
    """An administrative area inside a country (province, prefecture, district, …), loaded
    from a file a user supplies (geoBoundaries, GADM, a national agency)."""

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="admin_areas")
    level = models.PositiveSmallIntegerField(_("admin level"))
    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=60, blank=True)
    boundary = models.MultiPolygonField(_("boundary"), srid=4326)
    source = models.CharField(_("source"), max_length=200)

    class Meta:
        ordering = ["country", "level", "name"]
        indexes = [models.Index(fields=["country", "level"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.country_id}, level {self.level})"


class Region(models.Model):
    """A regional organisation (ECCAS, ECOWAS, the AU, …) and its member states, or the
    States of a regional instrument on small arms (the Kinshasa Convention, …): the
    Secretary-General's input compares both; flows and the dashboard group by
    organisations only."""

    class Kind(models.TextChoices):
        ORGANISATION = "organisation", _("Regional organisation")
        INSTRUMENT = "instrument", _("Regional instrument on small arms")

    code = models.SlugField(_("code"), max_length=30, unique=True)
    kind = models.CharField(
        _("kind"),
        max_length=12,
        choices=Kind.choices,
        default=Kind.ORGANISATION,
        db_default=Kind.ORGANISATION,
    )
    name = models.CharField(_("name"), max_length=200)
    member_countries = ArrayField(
        models.CharField(max_length=3, validators=[validate_country_code]),
        verbose_name=_("member states (ISO 3166-1 alpha-3)"),
        default=list,
    )
    source = models.CharField(_("source"), max_length=300, blank=True)
    members_as_of = models.DateField(_("members as of"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        indexes = [GinIndex(fields=["member_countries"])]

    def __str__(self) -> str:
        return self.name


class Place(models.Model):
    """A named populated place from the GeoNames gazetteer, for place-name lookup and for
    the nearest named place of each incident."""

    geonameid = models.PositiveIntegerField(primary_key=True)
    name = models.CharField(_("name"), max_length=200)
    # Lower case without accents ("ndele" for "Ndélé"): what people type in the field.
    search_name = models.CharField(max_length=200)
    alternate_names = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    country = models.CharField(_("country"), max_length=3, db_index=True)
    admin1_code = models.CharField(max_length=20, blank=True)
    population = models.PositiveBigIntegerField(default=0)
    point = models.PointField(srid=4326)

    class Meta:
        ordering = ["-population", "name"]
        indexes = [
            GinIndex(
                name="place_search_name_trgm", fields=["search_name"], opclasses=["gin_trgm_ops"]
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.country})"


class AnalysisKind(models.TextChoices):
    HOTSPOTS = "hotspots", _("Hot spots (Getis-Ord Gi*)")
    EMERGING_HOTSPOTS = "emerging_hotspots", _("Emerging hot spots")
    CLUSTERS = "clusters", _("Clusters (DBSCAN)")
    DENSITY = "density", _("Density surface")
    FLOWS = "flows", _("Flows: origin to seizure")
    SERIAL_BATCHES = "serial_batches", _("Serial-number batches")
    TRENDS = "trends", _("Trends")


class AnalysisRun(LeasedJob):
    """One requested analysis: what, on which records, for whom, and how it went.

    A run is requested either by a user (it then reads what that user may read) or by the
    nightly schedule for a mission (it reads what the mission's analysts read). Identical
    requests on unchanged records share one run: `request_key` identifies the request,
    `data_fingerprint` the state of the records it read.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    LIVE_STATES = (State.QUEUED, State.RUNNING, State.DONE)
    PROGRESS_FIELDS = ("progress",)

    kind = models.CharField(_("kind"), max_length=20, choices=AnalysisKind.choices)
    parameters = models.JSONField(_("parameters"), default=dict)
    incident_filter = models.JSONField(_("incident filter"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="analysis_runs",
    )
    mission = models.ForeignKey(
        "organisations.Mission",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="analysis_runs",
        help_text=_("For scheduled runs: the mission whose records they read."),
    )
    request_key = models.CharField(max_length=64, db_index=True)
    data_fingerprint = models.CharField(max_length=64)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    error = models.TextField(_("why it failed"), blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    incidents_read = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)

    objects = AnalysisRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Two identical requests arriving together still make one run.
            models.UniqueConstraint(
                fields=["request_key", "data_fingerprint"],
                condition=models.Q(state__in=["queued", "running", "done"]),
                name="one_live_run_per_request_and_data",
            ),
            models.CheckConstraint(
                condition=models.Q(requested_by__isnull=False) | models.Q(mission__isnull=False),
                name="run_requested_by_a_user_or_for_a_mission",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_state_display()})"


class AnalysisCell(models.Model):
    """One hexagon of a hot-spot or emerging hot-spot run, kept as rows so that maps and
    the API can page through and clip them by bounding box."""

    # Indexed by the (run, cell) constraint; no index of their own on the run or the
    # polygon: a run's hexagons are read together, and writing 1M-incident runs' indexes
    # costs more than scanning one run's rows.
    run = models.ForeignKey(
        AnalysisRun, on_delete=models.CASCADE, related_name="cells", db_index=False
    )
    cell = models.BigIntegerField(_("H3 cell"))
    incidents = models.PositiveIntegerField(_("count"))
    z_score = models.FloatField(_("z-score"))
    p_value = models.FloatField(_("p-value"))
    spot_class = models.SmallIntegerField(
        _("class"),
        help_text=_(
            "+3/+2/+1: hot spot at 99, 95 or 90 percent confidence; 0: none; −1…−3: cold spot"
        ),
    )
    pattern = models.CharField(_("emerging pattern"), max_length=30, blank=True)
    boundary = models.PolygonField(srid=4326, spatial_index=False)

    class Meta:
        ordering = ["run", "cell"]
        constraints = [models.UniqueConstraint(fields=["run", "cell"], name="one_row_per_cell")]


class IncidentCluster(models.Model):
    """One density-based cluster of a clusters run."""

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="clusters")
    label = models.PositiveIntegerField()
    incidents = models.PositiveIntegerField(_("incidents"))
    weapons = models.PositiveIntegerField(_("weapons"))
    first_occurred_at = models.DateTimeField()
    last_occurred_at = models.DateTimeField()
    centroid = models.PointField(srid=4326)
    hull = models.GeometryField(srid=4326)

    class Meta:
        ordering = ["run", "-incidents"]
