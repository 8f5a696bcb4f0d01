"""Bulk import of incidents and their weapons: the file's columns (`columns`), reading and
refusing files (`files`), the all-or-nothing load into PostgreSQL (`importer`), how long
refused files are kept (`retention`) and the upload pages (`views`)."""
