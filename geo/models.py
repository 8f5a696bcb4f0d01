"""Places: country and admin boundaries, regional organisations, and a gazetteer."""

from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.utils.translation import gettext_lazy as _

from geo.countries import validate_country_code


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
        return self.name


class CountryPart(models.Model):
    """A country boundary cut into pieces of a few hundred vertices (ST_Subdivide), so that
    point-in-polygon tests touch small polygons instead of, say, all of Russia."""

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="parts")
    part = models.PolygonField(srid=4326)


class CountryEdge(models.Model):
    """A country's boundary line in short pieces: a map cell that no edge crosses lies
    wholly inside one country (or wholly outside all), which lets bulk imports assign the
    country of most points per cell instead of per point."""

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="edges")
    edge = models.GeometryField(srid=4326)


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
    """A regional organisation (ECCAS, ECOWAS, the AU, …) and its member states."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
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
