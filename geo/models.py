"""Places: country boundaries and the regional organisations they belong to."""

from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.utils.translation import gettext_lazy as _

from geo.countries import validate_country_code


class Country(models.Model):
    """A country's boundary, keyed by its ISO 3166-1 alpha-3 code."""

    iso3 = models.CharField(
        _("ISO 3166-1 alpha-3"), max_length=3, primary_key=True, validators=[validate_country_code]
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
        return self.name


class Region(models.Model):
    """A regional organisation (ECCAS, ECOWAS, the AU, …) and its member states."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=200)
    member_countries = ArrayField(
        models.CharField(max_length=3, validators=[validate_country_code]),
        verbose_name=_("member states (ISO 3166-1 alpha-3)"),
        default=list,
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
