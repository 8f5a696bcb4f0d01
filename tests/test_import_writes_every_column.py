"""The import writes every column of a new incident that has no default of its own (issue
24: a new NOT NULL field broke the import's hand-written column list at run time): each
concrete column is copied from the file, derived by the import, or left to a database
default or null. The same for a weapon."""

from django.db.models import NOT_PROVIDED

from incidents.imports.columns import WEAPON_COLUMNS
from incidents.imports.importer import COPIED_INCIDENT_COLUMNS, DERIVED_INCIDENT_COLUMNS
from incidents.models import Incident, WeaponItem

# Weapon columns the database fills (the flow triggers, a generated column) or the insert
# sets (incidents/imports/importer.py: the incident, the id, the disposition).
WEAPON_SET_BY_THE_INSERT_OR_THE_DATABASE = {
    "id",
    "incident_id",
    "disposition",
    "seized_in",
    "seized_at",
    "origin_country",
    "origin_source",
    "origin_trace_id",
    "origin_point",
    "origin_transit",
    "seized_month",
    "incident_mission_id",
    "incident_contingent_id",
    "incident_state",
    "incident_releasability",
    "incident_kind",
    "incident_context",
    "incident_withdrawn",
}


def _needs_a_value(field) -> bool:
    return not (
        field.null
        or field.primary_key
        or field.db_default is not NOT_PROVIDED
        or getattr(field, "generated", False)
    )


def test_every_incident_column_without_a_default_is_written_by_the_import():
    written = set(COPIED_INCIDENT_COLUMNS) | set(DERIVED_INCIDENT_COLUMNS)
    columns = {field.column: field for field in Incident._meta.concrete_fields}

    assert written <= set(columns), sorted(written - set(columns))
    missing = sorted(
        name for name, field in columns.items() if _needs_a_value(field) and name not in written
    )
    assert not missing, f"the import writes no value to {missing}"


def test_every_weapon_column_without_a_default_is_written_by_the_import():
    written = {
        column.name.removeprefix("weapon_") for column in WEAPON_COLUMNS if not column.origin
    }
    written |= WEAPON_SET_BY_THE_INSERT_OR_THE_DATABASE
    columns = {field.column: field for field in WeaponItem._meta.concrete_fields}

    missing = sorted(
        name for name, field in columns.items() if _needs_a_value(field) and name not in written
    )
    assert not missing, f"the import writes no value to {missing}"
