"""Analyses of incidents: hotspots, emerging hotspots, clusters, density, flows, serial-batch
linkage and trends.

Each kind lives in its own module and exposes one function

    analyse(incidents: IncidentQuerySet, parameters: <its Parameters>, progress: Progress) -> dict

where `incidents` is already limited to what the requester may read
(`Incident.objects.visible_to(...)` then the shared `IncidentFilterSet`), and annotated with
`shown_location`. Analyses read `shown_location`, never `location`: a reader entitled only
to generalised coordinates must not get exact positions back through a hotspot grid or a
cluster hull. The returned dict is JSON-ready and is stored on the AnalysisRun.

The heavy lifting happens in SQL over the chosen incidents (see `chosen_incidents_sql`),
or in numpy/PySAL/scikit-learn over arrays read in one query; no Python loop over rows.
"""
