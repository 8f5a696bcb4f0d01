"""History tables that are cheap to write in bulk."""

from simple_history.models import HistoricalRecords


class LeanHistoricalRecords(HistoricalRecords):
    """HistoricalRecords whose `no_db_index` fields get no index at all, spatial ones
    included (django-simple-history drops only B-tree indexes).

    A record's history is read by the record's id, never searched by place or owner, and a
    bulk import writes one history row per record: each needless index on those rows
    costs the import time (about 0.4 s per 100,000 rows for a GiST on the location).
    """

    def copy_fields(self, model):
        fields = super().copy_fields(model)
        for name in self.no_db_index:
            if hasattr(fields[name], "spatial_index"):
                fields[name].spatial_index = False
        return fields
