"""Loaded country boundaries keep the UN M49 English name (issue 20), as a new load stores it
(geo/core/boundaries.py), instead of pycountry's ISO 3166 name."""

from django.db import migrations

from geo.countries import country_name


def un_names(apps, schema_editor):
    Country = apps.get_model("geo", "Country")
    for country in Country.objects.only("iso3", "name"):
        un_name = country_name(country.iso3, "en")
        if un_name not in (country.iso3, country.name):
            Country.objects.filter(pk=country.pk).update(name=un_name)


class Migration(migrations.Migration):
    dependencies = [("geo", "0017_map_cells_more_categories")]

    operations = [migrations.RunPython(un_names, migrations.RunPython.noop)]
