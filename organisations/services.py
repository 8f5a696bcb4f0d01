"""Writes about organisations and access."""

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import Model

from organisations.audit import record_read
from organisations.models import Agency, AgencyAPIKey, APIAccess, UserPreferences


def agency_api_key_create(
    *,
    agency: Agency,
    name: str,
    expires_at: datetime | None = None,
    scopes: Sequence[str] = (),
) -> tuple[AgencyAPIKey, str]:
    """Create a key for `agency`; return it with the raw key, which is shown only now.
    Without `scopes` (APIKeyScope), the key reads and writes nothing."""
    return AgencyAPIKey.objects.create_key(
        agency=agency, name=name, expiry_date=expires_at, scopes=list(scopes)
    )


@transaction.atomic
@transaction.atomic
def api_access_record(*, request, records: int, what: str = "api.pull") -> APIAccess:
    """Log one API pull: who (user or agency key), when, what query, how many records.

    Kept as the API's usage log (per key, per query) beside the audit trail, which gets
    its row for the same pull here, in the same transaction (one commit: of a list page's
    time, the commits were the largest part)."""
    principal = request.user
    agency = getattr(principal, "agency", None)
    record_read(request, what, records=records)
    return APIAccess.objects.create(
        user=principal if isinstance(principal, Model) else None,
        agency=agency,
        api_key=getattr(principal, "api_key", None),
        method=request.method,
        path=request.path[:500],
        query=request.META.get("QUERY_STRING", ""),
        records=records,
        remote_address=request.META.get("REMOTE_ADDR"),
    )


def user_language_set(*, user, language: str) -> UserPreferences:
    """Store `user`'s interface language; `language` must be one of settings.LANGUAGES."""
    preferences, _created = UserPreferences.objects.update_or_create(
        user=user, defaults={"language": language}
    )
    return preferences
