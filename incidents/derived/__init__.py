"""Derived data: what the database keeps for the readers, and every function and trigger
PostgreSQL runs for the platform (docs/development/derived-data.md).

- `map_cells`: the map's counts per grid cell (`IncidentMapCell`, geo's table).
- `flow_counts`: the counts of items per flow (`WeaponFlowCount`).
- `sql/`: one file per database function with the triggers that call it; `database`
  reads them; `operations.InstallDatabaseCode` installs them from a migration.
"""
