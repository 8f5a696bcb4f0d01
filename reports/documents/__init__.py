"""The documents a report is made of.

- `document`: the shape every template produces (sections, tables, pictures).
- The templates' builders, one module each: `mission_monthly`, `regional_overview`,
  `secretary_general`, `sdg_16_4_2`, `iafq`, `isacs_trace`; `reports.services` holds the
  table from a template to its builder.
- What they share: `figures` and `people` (SQL aggregates), `sections`, `charts` and
  `static_maps` (matplotlib), `hotspots` (stored analyses), `methodology` (the closing
  section) and `rendering` (PDF, XLSX and CSV files).
"""
