"""What every page shows of the records: how many wait for the reader's hand (top bar)."""

from django.utils.functional import SimpleLazyObject

from incidents.selectors import work_waiting


def waiting(request) -> dict:
    # Lazy: counted only where a page shows it (not for the API, files or the health check).
    return {"waiting": SimpleLazyObject(lambda: work_waiting(request.user))}
