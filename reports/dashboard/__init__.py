"""The analyst's dashboard: its figures as SQL statements (`figures`) and its page (`views`)."""
