"""The States of four regional instruments on small arms, as Regions (issue 20: the
Secretary-General's input compares them beside the regional organisations). Codes end in
the instrument's kind so that they never clash with an organisation's code.

Membership was compiled from public knowledge of each instrument, without an online check
when this migration was written (December 2026); it reflects the States that signed each
instrument at its adoption, and for the Nairobi Protocol the member States of its
secretariat (RECSA) as known in 2025, stored with members_as_of 2025-11-01 (the date of
geo/regional_organisations.json). Signature and ratification are not told apart; a State
that later left the organisation (Burkina Faso, Mali and Niger left ECOWAS in January 2025)
stays listed for the instrument it signed. Review against the depositaries' status lists:

- Kinshasa Convention: Central African Convention for the Control of Small Arms and Light
  Weapons, Their Ammunition and All Parts and Components (Kinshasa, 30 April 2010; in force
  8 March 2017), depositary the UN Secretary-General (UN Treaty Collection): the eleven
  ECCAS States of 2010.
- Nairobi Protocol for the Prevention, Control and Reduction of Small Arms and Light Weapons
  in the Great Lakes Region and the Horn of Africa (Nairobi, 21 April 2004; in force 5 May
  2006): the fifteen member States of the Regional Centre on Small Arms (RECSA).
- ECOWAS Convention on Small Arms and Light Weapons, Their Ammunition and Other Related
  Materials (Abuja, 14 June 2006; in force 29 September 2009): the fifteen ECOWAS States of
  2006.
- SADC Protocol on the Control of Firearms, Ammunition and Other Related Materials
  (Blantyre, 14 August 2001; in force 8 November 2004): the fourteen SADC States of 2001.

`manage.py load_regions` (geo/regional_organisations.json) leaves these rows alone.
"""

from datetime import date

from django.db import migrations

AS_OF = date(2025, 11, 1)
INSTRUMENTS = [
    (
        "kinshasa-convention",
        "Kinshasa Convention (Central African Convention on small arms)",
        ["AGO", "BDI", "CAF", "CMR", "COD", "COG", "GAB", "GNQ", "RWA", "STP", "TCD"],
        "Signatories, Kinshasa 30 April 2010 (depositary: UN Secretary-General, "
        "https://treaties.un.org/)",
    ),
    (
        "nairobi-protocol",
        "Nairobi Protocol (Great Lakes Region and Horn of Africa)",
        [
            "BDI",
            "CAF",
            "COD",
            "COG",
            "DJI",
            "ERI",
            "ETH",
            "KEN",
            "RWA",
            "SDN",
            "SOM",
            "SSD",
            "SYC",
            "TZA",
            "UGA",
        ],  # fmt: skip
        "Member States of the Regional Centre on Small Arms (RECSA), https://recsasec.org/",
    ),
    (
        "ecowas-convention",
        "ECOWAS Convention on Small Arms and Light Weapons",
        [
            "BEN",
            "BFA",
            "CIV",
            "CPV",
            "GHA",
            "GIN",
            "GMB",
            "GNB",
            "LBR",
            "MLI",
            "NER",
            "NGA",
            "SEN",
            "SLE",
            "TGO",
        ],  # fmt: skip
        "Signatories, Abuja 14 June 2006 (ECOWAS Commission, https://ecowas.int/)",
    ),
    (
        "sadc-firearms-protocol",
        "SADC Protocol on the Control of Firearms, Ammunition and Other Related Materials",
        [
            "AGO",
            "BWA",
            "COD",
            "LSO",
            "MOZ",
            "MUS",
            "MWI",
            "NAM",
            "SWZ",
            "SYC",
            "TZA",
            "ZAF",
            "ZMB",
            "ZWE",
        ],  # fmt: skip
        "Signatories, Blantyre 14 August 2001 (SADC Secretariat, https://www.sadc.int/)",
    ),
]


def add_instruments(apps, schema_editor):
    Region = apps.get_model("geo", "Region")
    for code, name, members, source in INSTRUMENTS:
        Region.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "member_countries": members,
                "source": source,
                "members_as_of": AS_OF,
            },
        )


def remove_instruments(apps, schema_editor):
    Region = apps.get_model("geo", "Region")
    Region.objects.filter(code__in=[code for code, *_rest in INSTRUMENTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("geo", "0018_country_names_un_m49")]

    operations = [migrations.RunPython(add_instruments, remove_instruments)]
