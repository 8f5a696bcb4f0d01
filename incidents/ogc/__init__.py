"""OGC API – Features (Part 1: Core) over the incidents a caller may see, for GIS clients
such as QGIS and GDAL/OGR's OAPIF driver. Same authentication and access policy as the
REST API; features are built in PostgreSQL from `Incident.objects.visible_to(...)`."""
