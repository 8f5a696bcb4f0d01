"""Idempotent API writes: a client sends `Idempotency-Key: <its own unique string>` with a
write, and sends the same key again when it cannot tell whether the write went through (a
timeout, a dropped connection). The first request writes and its answer is stored under the
key; the same request again gets that answer back (`Idempotent-Replayed: true`) and writes
nothing; another request under a used key is refused (422).

Call `idempotency_key_claim` inside the write's transaction, before writing:

- the key row is inserted (`ON CONFLICT DO NOTHING`) and locked: a second request with the
  same key waits there until the first one's transaction ends, then finds its answer;
- if the write fails, the transaction rolls back the key with it: the key is free again, so
  a corrected request may reuse it;
- a key older than IDEMPOTENCY_KEY_LIFETIME is free again (its row is taken over).
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError

from incidents.models import APIIdempotencyKey
from organisations.access import AgencyPrincipal, Principal

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
IDEMPOTENCY_KEY_MAX_LENGTH = 200
IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=24)

# The headers as the OpenAPI schema gives them, for every write that takes a key.
IDEMPOTENCY_PARAMETERS = [
    OpenApiParameter(
        IDEMPOTENCY_HEADER,
        {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH},
        OpenApiParameter.HEADER,
        required=True,
        description=(
            "The client's own unique string for this record (a UUID), the same on every retry."
        ),
    ),
    OpenApiParameter(
        REPLAYED_HEADER,
        {"type": "string", "enum": ["true"]},
        OpenApiParameter.HEADER,
        response=[201],
        description="Present when the answer is the stored one of an earlier request.",
    ),
]


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"


@dataclass(frozen=True)
class Claim:
    row: APIIdempotencyKey
    replay: bool  # the same request was answered before: send row's answer again


def idempotency_key_of(request) -> str:
    """The request's key; a 400 naming the header if it is missing, empty or too long."""
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not key:
        raise ValidationError(
            {
                IDEMPOTENCY_HEADER: [
                    _(
                        "Send an Idempotency-Key header: a unique string of your own (a UUID) "
                        "per record, the same again when you retry."
                    )
                ]
            }
        )
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise ValidationError(
            {
                IDEMPOTENCY_HEADER: [
                    _("The Idempotency-Key has %(n)d characters; at most %(max)d are allowed.")
                    % {"n": len(key), "max": IDEMPOTENCY_KEY_MAX_LENGTH}
                ]
            }
        )
    return key


def request_fingerprint(*, method: str, path: str, data) -> str:
    """SHA-256 of the request: method, path and the body as canonical JSON (keys sorted), so
    the same content written with other spacing or key order is the same request."""
    canonical = json.dumps(
        [method, path, data], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _owner(principal: Principal) -> dict:
    """Whose keys: an agency's API key's (each key its own), or a signed-in user's."""
    if isinstance(principal, AgencyPrincipal):
        return {"api_key": principal.api_key}
    return {"user": principal}


def idempotency_key_claim(*, user: Principal, key: str, fingerprint: str) -> Claim:
    """Take the key for this request, or find the answer it was given; call it inside the
    write's transaction. Raise IdempotencyKeyReused if the key names another request.
    `user` is the caller: a signed-in user, or an agency calling with its API key."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Claim an idempotency key inside the write's transaction.")
    now = timezone.now()
    owner = _owner(user)
    # Waits, if another transaction holds the same key, until that one ends.
    APIIdempotencyKey.objects.bulk_create(
        [APIIdempotencyKey(**owner, key=key, fingerprint=fingerprint, created_at=now)],
        ignore_conflicts=True,
    )
    row = APIIdempotencyKey.objects.select_for_update().get(**owner, key=key)
    if row.created_at < now - IDEMPOTENCY_KEY_LIFETIME:
        # An expired key: free for another request.
        row.fingerprint, row.created_at = fingerprint, now
        row.response_status = row.response_body = None
        row.save()
    if row.response_status is None:
        return Claim(row=row, replay=False)
    if row.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            _(
                "This Idempotency-Key was used for another request (a different body) in the "
                "last 24 hours; use a new key for a new record."
            )
        )
    return Claim(row=row, replay=True)


def idempotency_key_record(*, claim: Claim, response_status: int, response_body) -> None:
    """Store the answer given under the claimed key (in the same transaction as the write)."""
    claim.row.response_status = response_status
    claim.row.response_body = response_body
    claim.row.save(update_fields=["response_status", "response_body"])


def idempotency_keys_purge_expired(*, now=None) -> int:
    """Delete the keys older than their lifetime (a client retrying after that makes a new
    record anyway); the table would otherwise grow with every API write. Returns how many."""
    now = now or timezone.now()
    deleted, _by_model = APIIdempotencyKey.objects.filter(
        created_at__lt=now - IDEMPOTENCY_KEY_LIFETIME
    ).delete()
    return deleted
