"""Illicit origins established for a weapon, with or without a trace.

SDG indicator 16.4.2 counts seized, found or surrendered arms "whose illicit origin or
context has been traced or established by a competent authority" (UNODC's metadata): a
trace answer is one way, a competent authority's finding, an investigation or the
weapon's own marks (a State-ownership mark, ISACS 05.30) are others. An illicit
manufacture (craft-produced arms) is an illicit origin too. One record per weapon item says
how the origin was established, what kind it is, where and when the weapon left lawful
hands, and who established it. The outputs (issue 20) count these records, never the
country of manufacture, as origins.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from geo.countries import validate_country_code
from incidents.choices import OriginKind, OriginMethod


class IllicitOrigin(models.Model):
    weapon = models.OneToOneField(
        "incidents.WeaponItem",
        on_delete=models.CASCADE,
        related_name="illicit_origin",
        verbose_name=_("weapon"),
    )
    method = models.CharField(
        _("established by way of"), max_length=15, choices=OriginMethod.choices
    )
    kind = models.CharField(_("kind of illicit origin"), max_length=20, choices=OriginKind.choices)
    # The trace request whose answer established it, when the method is a trace.
    trace = models.ForeignKey(
        "incidents.TraceRequest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("trace request"),
    )
    diversion_country = models.CharField(
        _("country of diversion"), max_length=3, blank=True, validators=[validate_country_code]
    )
    diversion_point = models.PointField(_("point of diversion"), srid=4326, null=True, blank=True)
    diversion_date = models.DateField(_("date of diversion"), null=True, blank=True)
    established_by = models.CharField(_("established by (competent authority)"), max_length=200)
    established_on = models.DateField(_("established on"))
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("illicit origin")
        ordering = ["-established_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_method_display()})"
