"""The audit trail: every write, and every read of sensitive records, leaves one row.

Call these inside the transaction of what they record (the row commits or rolls back
with it), before any record leaves the server:

    record_read(request, "incident.detail", records=1, target=incident)
    record_read(request, "report.download", records=report.record_count, target=report)
    record_write(user, "incident.submit", target=incident)

A read of one record that answers 404 (the id is hidden from the caller, or does not exist)
leaves a row too, so probing for ids is on record: the view declares what it reads
(`RefusedRead`, with `refused_reads_audited` on a function view or `refused_reads` on a
DRF view) and `RefusedReadsAuditMiddleware` writes "<what>.refused" with the id asked for,
after the view's own transaction has rolled back.

`actor` is the request (Django's or DRF's: the principal is `request.user`, and the
request says from where), or a principal — a user, or an `AgencyPrincipal` — when there is
no request at hand (a service, a Celery task). Without a request, the request that
django-simple-history's middleware keeps for the current thread is used if there is one;
in a worker there is none, and the row says "worker".

Rows cannot be changed or deleted: a trigger in the database refuses it (migration
organisations 0004), whoever connects.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Model
from django.http import HttpRequest

from organisations.models import Agency, AuditEvent

try:  # The request of the current thread, kept by simple_history's HistoryRequestMiddleware.
    from simple_history.models import HistoricalRecords
except ImportError:  # pragma: no cover - simple_history is a requirement
    HistoricalRecords = None

__all__ = [
    "AuditEvent",
    "RefusedRead",
    "record_read",
    "record_refused",
    "record_write",
    "refused_reads_audited",
]


def record_read(
    actor, what: str, *, records: int, target: Model | None = None, query: str | None = None
) -> AuditEvent:
    """Log that `actor` read `records` sensitive records through `what`."""
    return _record(AuditEvent.Kind.READ, actor, what, records=records, target=target, query=query)


def record_write(
    actor, what: str, *, records: int = 1, target: Model | None = None, query: str | None = None
) -> AuditEvent:
    """Log that `actor` wrote `records` records through `what` (one service call)."""
    return _record(AuditEvent.Kind.WRITE, actor, what, records=records, target=target, query=query)


@dataclass(frozen=True)
class RefusedRead:
    """A view's read of one record, for the trail of refused reads: `what` names the read
    ("incident.detail"), `model` the kind of record, `id_kwarg` the URL argument holding
    the id asked for."""

    what: str
    model: type[Model]
    id_kwarg: str = "pk"


def record_refused(request, read: RefusedRead, *, object_id: str) -> AuditEvent:
    """Log that the caller of `request` asked for record `object_id` through `read` and got
    404: hidden from them or missing (the row does not say which, as the answer does not)."""
    return _record(
        AuditEvent.Kind.READ,
        request,
        f"{read.what}.refused",
        records=0,
        target=None,
        query=None,
        object_ref=(read.model._meta.label_lower, object_id),
    )


def refused_reads_audited(read: RefusedRead) -> Callable:
    """Declare that a function view reads one record (RefusedRead): its 404s are logged."""

    def declare(view: Callable) -> Callable:
        view.refused_read = read
        return view

    return declare


def _record(kind, actor, what: str, *, records: int, target, query, object_ref=None) -> AuditEvent:
    request = _request_of(actor)
    principal = getattr(request, "user", None) if actor is request else actor
    user, agency, key_prefix, label = _who(principal)
    event = AuditEvent(
        kind=kind,
        action=what[:80],
        user=user,
        agency=agency,
        api_key_prefix=key_prefix,
        actor=label[:200],
        records=max(int(records), 0),
    )
    if target is not None:
        object_ref = (target._meta.label_lower, str(target.pk))
    if object_ref is not None:
        event.object_type, event.object_id = object_ref[0][:60], object_ref[1][:40]
    if request is not None:
        event.channel = _channel(request.path)
        event.method = request.method or ""
        event.path = request.path[:500]
        event.query = request.META.get("QUERY_STRING", "") if query is None else query
        event.remote_address = client_address(request)
    else:
        event.channel = "worker"
        event.query = query or ""
    event.save(force_insert=True)
    return event


def _request_of(actor):
    """The request behind `actor`: itself if it is one, else the current thread's."""
    if isinstance(actor, HttpRequest) or hasattr(actor, "_request"):  # Django or DRF
        return actor
    current = getattr(HistoricalRecords.context, "request", None) if HistoricalRecords else None
    if current is not None and (actor is None or _same_principal(current, actor)):
        return current
    return None


def _same_principal(request, principal) -> bool:
    user = getattr(request, "user", None)
    if user is principal:
        return True
    return isinstance(principal, Model) and getattr(user, "pk", None) == principal.pk


def _who(principal) -> tuple[Model | None, Agency | None, str, str]:
    """(user, agency, API key prefix, a readable name) of a principal."""
    agency = getattr(principal, "agency", None)
    if isinstance(agency, Agency) and not isinstance(principal, Model):
        api_key = getattr(principal, "api_key", None)
        prefix = getattr(api_key, "prefix", "") or ""
        return None, agency, prefix, f"agency:{agency.name}" + (f" key:{prefix}" if prefix else "")
    if isinstance(principal, Model):
        return principal, None, "", f"user:{principal.get_username()}"
    return None, None, "", "anonymous"


def _channel(path: str) -> str:
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/ogc"):
        return "ogc"
    return "web"


def client_address(request) -> str | None:
    """The caller's address: REMOTE_ADDR, or with PROXY_COUNT trusted proxies in front, the
    address the outermost trusted proxy saw (the same count django-axes trusts)."""
    proxies = getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0) or 0
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return _valid_address(forwarded[-proxies])
    return _valid_address(request.META.get("REMOTE_ADDR"))


def _valid_address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def admin_change_recorded(sender, instance, created: bool, raw: bool = False, **_kwargs) -> None:
    """Writes made in the Django admin (missions, memberships, agreements, keys, …) join
    the trail: Django logs each one as a LogEntry inside the admin's own transaction, and
    its row here follows in that transaction."""
    if not created or raw:
        return
    from django.contrib.admin.models import ADDITION, CHANGE, DELETION

    verb = {ADDITION: "add", CHANGE: "change", DELETION: "delete"}.get(instance.action_flag)
    model = instance.content_type.model_class() if instance.content_type_id else None
    label = model._meta.label_lower if model else "unknown"
    event = AuditEvent(
        kind=AuditEvent.Kind.WRITE,
        action=f"admin.{verb or 'action'}",
        records=1,
        object_type=label[:60],
        object_id=str(instance.object_id or "")[:40],
        query="",
    )
    request = _request_of(None)
    user, agency, key_prefix, name = _who(instance.user)
    event.user, event.agency, event.api_key_prefix, event.actor = user, agency, key_prefix, name
    if request is not None:
        event.channel = _channel(request.path)
        event.method, event.path = request.method or "", request.path[:500]
        event.remote_address = client_address(request)
    else:
        event.channel = "web"
    event.save(force_insert=True)
