"""The records: incidents, the weapons involved, and their tracing."""

from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from geo.countries import validate_country_code
from incidents.choices import (
    Context,
    IncidentKind,
    LocationPrecision,
    TraceStatus,
    WeaponCategory,
    WorkflowState,
)
from incidents.querysets import IncidentQuerySet
from organisations.choices import Releasability


class Incident(models.Model):
    """One event in which weapons or ammunition came under control or were used."""

    kind = models.CharField(_("kind"), max_length=30, choices=IncidentKind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    location = models.PointField(_("location"), srid=4326)
    location_precision = models.CharField(
        _("location precision"),
        max_length=12,
        choices=LocationPrecision.choices,
        default=LocationPrecision.EXACT,
    )
    country = models.CharField(
        _("country"), max_length=3, blank=True, validators=[validate_country_code]
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
    mission = models.ForeignKey(
        "organisations.Mission", on_delete=models.PROTECT, related_name="incidents"
    )
    contingent = models.ForeignKey(
        "organisations.Contingent", on_delete=models.PROTECT, related_name="incidents"
    )
    actors = models.CharField(_("actors"), max_length=300, blank=True)
    narrative = models.TextField(_("narrative"), blank=True)
    releasability = models.PositiveSmallIntegerField(
        _("releasability"), choices=Releasability.choices, default=Releasability.MISSION_ONLY
    )
    state = models.CharField(
        _("workflow state"),
        max_length=12,
        choices=WorkflowState.choices,
        default=WorkflowState.DRAFT,
    )
    gbv_link = models.BooleanField(_("linked to gender-based violence"), default=False)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reported_incidents",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["mission", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d} ({self.contingent})"

    @property
    def regions(self):
        """The regional organisations whose member states include the incident's country."""
        from geo.models import Region

        return Region.objects.filter(member_countries__contains=[self.country])


class WeaponItem(models.Model):
    """One weapon, or a group of identical unmarked ones."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="weapons")
    category = models.CharField(_("category"), max_length=30, choices=WeaponCategory.choices)
    make = models.CharField(_("make"), max_length=100, blank=True)
    model = models.CharField(_("model"), max_length=100, blank=True)
    calibre = models.CharField(_("calibre"), max_length=40, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=60, blank=True, db_index=True)
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
        _("quantity"), default=1, validators=[MinValueValidator(1)]
    )

    class Meta:
        ordering = ["incident", "id"]

    def __str__(self) -> str:
        return " ".join(filter(None, [self.make, self.model, self.serial_number])) or str(
            self.get_category_display()
        )


class TraceRequest(models.Model):
    """A request to a State or manufacturer to trace one weapon to its point of diversion."""

    weapon = models.ForeignKey(WeaponItem, on_delete=models.CASCADE, related_name="trace_requests")
    addressee = models.CharField(_("addressed to"), max_length=200)
    sent_on = models.DateField(_("sent on"))
    answered_on = models.DateField(_("answered on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=TraceStatus.choices, default=TraceStatus.SENT
    )
    diversion_established = models.BooleanField(_("point of diversion established"), default=False)
    diversion_country = models.CharField(
        _("country of diversion"), max_length=3, blank=True, validators=[validate_country_code]
    )
    diversion_point = models.PointField(_("point of diversion"), srid=4326, null=True, blank=True)
    last_legal_end_user = models.CharField(_("last legal end user"), max_length=200, blank=True)

    class Meta:
        ordering = ["-sent_on", "-id"]

    def __str__(self) -> str:
        return f"Trace of {self.weapon} to {self.addressee}"
