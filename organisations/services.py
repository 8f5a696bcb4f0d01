"""Writes about organisations and access."""

from datetime import datetime

from django.db.models import Model

from organisations.models import Agency, AgencyAPIKey, APIAccess, UserPreferences


def agency_api_key_create(
    *, agency: Agency, name: str, expires_at: datetime | None = None
) -> tuple[AgencyAPIKey, str]:
    """Create a key for `agency`; return it with the raw key, which is shown only now."""
    return AgencyAPIKey.objects.create_key(agency=agency, name=name, expiry_date=expires_at)


def api_access_record(*, request, records: int) -> APIAccess:
    """Log one API pull: who (user or agency key), when, what query, how many records."""
    principal = request.user
    agency = getattr(principal, "agency", None)
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
