"""The first controlled list of manufacturers: makers whose small arms and light weapons
are common in seizures where the platform's missions work, with the names their marks and
reporters use. Written for ArmsMonitor from public knowledge of the makers' names; the list
is kept in the admin (Manufacturers), where a mission adds the makers and spellings it
meets. Backwards, the list is removed."""

from django.db import migrations

# (name, ISO 3166-1 alpha-3 country, other names and marks)
MANUFACTURERS = [
    ("Kalashnikov Concern", "RUS", ["Izhmash", "IZH", "Izhevsk Mechanical Plant", "Ижмаш"]),
    ("Tula Arms Plant", "RUS", ["Tula", "TOZ", "Tulsky Oruzheiny Zavod"]),
    ("Degtyarev Plant", "RUS", ["ZiD", "Kovrov", "Degtyaryov Plant"]),
    ("Bazalt", "RUS", ["GNPP Bazalt"]),
    ("Norinco", "CHN", ["China North Industries Corporation", "China North Industries"]),
    ("Zastava Arms", "SRB", ["Zastava", "Crvena Zastava", "Zavodi Crvena Zastava"]),
    ("Arsenal AD", "BGR", ["Arsenal", "Arsenal JSCo", "Kazanlak"]),
    ("Cugir Arms Factory", "ROU", ["Cugir", "UM Cugir", "Uzina Mecanica Cugir"]),
    ("FÉG", "HUN", ["FEG", "Fegyver- és Gépgyár"]),
    ("Česká zbrojovka", "CZE", ["CZ", "Ceska Zbrojovka", "CZUB"]),
    ("Fabryka Broni Łucznik", "POL", ["Fabryka Broni", "Radom", "Lucznik"]),
    ("FN Herstal", "BEL", ["FN", "FNH", "Fabrique Nationale", "Fabrique Nationale d'Herstal"]),
    ("Heckler & Koch", "DEU", ["H&K", "HK", "Heckler und Koch"]),
    ("Carl Walther", "DEU", ["Walther"]),
    ("Mauser", "DEU", ["Mauserwerke", "Mauser-Werke"]),
    ("SIG Sauer", "DEU", ["SIG", "Sig-Sauer"]),
    ("Steyr Mannlicher", "AUT", ["Steyr", "Steyr Arms"]),
    ("Glock", "AUT", ["Glock GmbH", "Glock Ges.m.b.H."]),
    ("Beretta", "ITA", ["Pietro Beretta", "Fabbrica d'Armi Pietro Beretta"]),
    ("MAS", "FRA", ["Manufacture d'armes de Saint-Étienne", "Saint-Etienne"]),
    ("Royal Small Arms Factory Enfield", "GBR", ["RSAF Enfield", "Enfield"]),
    ("Colt", "USA", ["Colt's Manufacturing Company", "Colt's"]),
    ("Smith & Wesson", "USA", ["S&W", "Smith and Wesson"]),
    ("Sturm, Ruger & Co.", "USA", ["Ruger", "Sturm Ruger"]),
    ("Remington Arms", "USA", ["Remington"]),
    ("O.F. Mossberg & Sons", "USA", ["Mossberg"]),
    ("Israel Weapon Industries", "ISR", ["IWI", "IMI", "Israel Military Industries"]),
    ("Makina ve Kimya Endüstrisi", "TUR", ["MKE", "MKEK"]),
    ("Military Industry Corporation", "SDN", ["MIC", "Sudan Military Industry Corporation"]),
    ("Defense Industries Organization", "IRN", ["DIO"]),
    ("Pakistan Ordnance Factories", "PAK", ["POF"]),
    ("Denel Land Systems", "ZAF", ["Denel", "Vektor", "LIW", "Lyttelton Engineering Works"]),
    ("Indústria de Material Bélico do Brasil", "BRA", ["IMBEL"]),
    ("Taurus", "BRA", ["Forjas Taurus", "Taurus Armas"]),
    ("Valmet", "FIN", ["Sako-Valmet"]),
    ("Maadi", "EGY", ["Maadi Company for Engineering Industries"]),
]


def list_create(apps, schema_editor):
    Manufacturer = apps.get_model("incidents", "Manufacturer")
    ManufacturerAlias = apps.get_model("incidents", "ManufacturerAlias")
    # Historical models have no custom save: each name is written as an alias here, as
    # Manufacturer.save does.
    for name, country, aliases in MANUFACTURERS:
        manufacturer = Manufacturer.objects.create(name=name, country=country)
        ManufacturerAlias.objects.bulk_create(
            ManufacturerAlias(manufacturer=manufacturer, spelling=spelling)
            for spelling in [name, *aliases]
        )


def list_remove(apps, schema_editor):
    apps.get_model("incidents", "Manufacturer").objects.filter(
        name__in=[name for name, _country, _aliases in MANUFACTURERS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("incidents", "0026_manufacturers")]

    operations = [migrations.RunPython(list_create, list_remove)]
