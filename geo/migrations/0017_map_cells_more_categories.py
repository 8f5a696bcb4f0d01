"""The map's kept category counts learn the weapon categories added by issue 19 (the
portable anti-aircraft guns of the International Tracing Instrument, shotguns, parts and
components, other): the two trigger functions of geo 0009 are written again with the longer
list of bits. Bits are appended, never moved, so no kept row changes; reversed, the
functions get 0009's list back.
"""

import importlib

from django.db import migrations

categories_0009 = importlib.import_module("geo.migrations.0009_map_cells_by_categories")

# incidents.derived.map_cells.CATEGORY_BITS as it stood when this migration was written.
CATEGORIES = (
    *categories_0009.CATEGORIES,
    "anti_aircraft_gun",
    "shotgun",
    "part_component",
    "other",
)


def _bit_of(categories: tuple[str, ...]):
    """SQL for the bit of a weapon's category, bit i for categories[i]."""
    array = "ARRAY[" + ", ".join(f"'{code}'" for code in categories) + "]::text[]"

    def bit(category: str) -> str:
        return f"(1 << (array_position({array}, {category}::text) - 1))"

    return bit


def _functions(categories: tuple[str, ...]) -> str:
    """0009's two functions, their category bits taken from `categories`."""
    bit = _bit_of(categories)

    def category_grains(rows: str, sign: str) -> str:
        held = categories_0009.INCIDENTS_HELD.format(
            rows=rows, sign=sign, weapon_bit=bit("weapon.category")
        )
        return categories_0009.UPSERT.format(
            key=categories_0009.KEY, cells=categories_0009.CATEGORY_CELLS.format(held=held)
        )

    def weapons(old: str, new: str) -> str:
        held = categories_0009.WEAPONS_HELD.format(
            old=old, new=new, weapon_bit=bit("weapon.category"), former_bit=bit("category")
        )
        return categories_0009.UPSERT.format(
            key=categories_0009.KEY, cells=categories_0009.CATEGORY_CELLS.format(held=held)
        )

    four_grains = categories_0009._four_grains
    no_weapons = categories_0009.NO_WEAPONS
    return f"""
CREATE OR REPLACE FUNCTION geo_map_cells_follow() RETURNS trigger
SET enable_seqscan = off LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {four_grains("old_rows", "-")};
        {category_grains("old_rows", "-1")};
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        {four_grains("new_rows", "")};
        {category_grains("new_rows", "1")};
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION geo_map_cells_follow_weapons() RETURNS trigger
SET enable_seqscan = off LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {weapons(no_weapons, "new_rows")};
    ELSIF TG_OP = 'DELETE' THEN
        {weapons("old_rows", no_weapons)};
    ELSE
        {weapons("old_rows", "new_rows")};
    END IF;
    RETURN NULL;
END
$$;
"""


# Every kept row as counted from scratch, for tests (as 0009's FROM_SCRATCH, with this list).
FROM_SCRATCH = (
    categories_0009.FOUR_GRAINS.format(
        cells=categories_0009.before.CELLS_OF.format(
            grain=categories_0009.before.GRAIN,
            sign="",
            rows="incidents_incident",
            access=categories_0009.before.ACCESS,
        )
    )
    + " UNION ALL "
    + categories_0009.CATEGORY_CELLS.format(
        held=categories_0009.INCIDENTS_HELD.format(
            rows="incidents_incident", sign="1", weapon_bit=_bit_of(CATEGORIES)("weapon.category")
        )
    )
)


class Migration(migrations.Migration):
    dependencies = [("geo", "0016_location_doubt")]

    operations = [
        migrations.RunSQL(_functions(CATEGORIES), _functions(categories_0009.CATEGORIES)),
    ]
