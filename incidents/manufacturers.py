"""Manufacturers: a controlled list with the other names each is written under (ISACS 05.30
makes the manufacturer's name or mark part of every weapon's unique marking; the IAFQ
tables count seized arms by make). Re-exported by incidents.models.

A weapon's `make` stays as the reporter read it off the weapon ("Izhmash", "IZH", "Ижмаш");
the list says which manufacturer that is. The match is made when records are read
(`WeaponItemQuerySet.with_manufacturer`, by `make_key_expression`), never stored on the
weapon, so that an alias added today names the manufacturer of every weapon already on
record, on every write path (form, import, API, admin) alike.
"""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Value
from django.db.models.functions import Lower, Trim
from django.utils.translation import gettext_lazy as _

from geo.countries import validate_country_code


def make_key_expression(expression):
    """How a make is compared with the list: trimmed and in lower case, by the database on
    both sides (PostgreSQL's lower() follows the database's locale, not Python's)."""
    return Lower(Trim(expression))


class Manufacturer(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    country = models.CharField(
        _("country"), max_length=3, blank=True, validators=[validate_country_code]
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("manufacturer")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @transaction.atomic
    def save(self, *args, **kwargs):
        # Its own name is one of its spellings, so that one lookup finds both.
        super().save(*args, **kwargs)
        own_name = ManufacturerAlias.objects.filter(key=make_key_expression(Value(self.name)))
        if not own_name.filter(manufacturer=self).exists():
            own_name.delete()  # an alias of another manufacturer: the name wins
            ManufacturerAlias.objects.create(manufacturer=self, spelling=self.name)


class ManufacturerAlias(models.Model):
    """Another name, abbreviation, former name or mark a manufacturer's weapons carry."""

    manufacturer = models.ForeignKey(Manufacturer, on_delete=models.CASCADE, related_name="aliases")
    spelling = models.CharField(_("written as"), max_length=100)
    # One manufacturer per spelling: the lookup's key, unique.
    key = models.GeneratedField(
        expression=Lower(Trim("spelling")),
        output_field=models.CharField(max_length=100),
        db_persist=True,
        unique=True,
    )

    class Meta:
        verbose_name = _("other name of a manufacturer")
        ordering = ["spelling"]

    def __str__(self) -> str:
        return self.spelling

    def clean(self):
        taken = ManufacturerAlias.objects.filter(
            key=make_key_expression(Value(self.spelling))
        ).exclude(pk=self.pk)
        holder = taken.select_related("manufacturer").first()
        if holder is not None:
            raise ValidationError(
                {
                    "spelling": _("%(spelling)s already names %(manufacturer)s.")
                    % {"spelling": self.spelling, "manufacturer": holder.manufacturer}
                }
            )
