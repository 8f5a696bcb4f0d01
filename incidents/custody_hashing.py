"""The keyed hashes of the chains of custody: HMAC-SHA256 with a key kept outside the database.

An unkeyed hash shows a changed event only to someone who cannot recompute it; whoever owns
the database can. With an HMAC, rewriting an event (or a chain head) so that it verifies
needs the key, which lives in the settings (CUSTODY_HMAC_KEYS), not in the database nor in
its backups. Every row stores the id of the key that signed it, so that keys can be rotated:
new rows use CUSTODY_HMAC_KEY_ID, old rows verify with their own key for as long as it stays
listed.

The canonical form of a row is frozen: changing it would make every recorded hash wrong.
Migration incidents 0017 holds a copy of it (migrations must not follow later code).
"""

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings

# The fields of an event that its hash covers (key_id too: a row cannot claim another key).
EVENT_FIELDS = (
    "weapon_id",
    "sequence",
    "kind",
    "occurred_at",
    "recorded_by_id",
    "place",
    "transferred_to",
    "destruction_method",
    "witnessed_by",
    "notes",
    "previous_hash",
    "key_id",
)
# The fields of a chain head that its hash covers.
HEAD_FIELDS = ("position", "weapon_id", "event_count", "last_hash", "previous_hash", "key_id")


class UnknownCustodyKey(KeyError):
    """A row names a key id that CUSTODY_HMAC_KEYS no longer (or never) listed."""


def current_key_id() -> str:
    return settings.CUSTODY_HMAC_KEY_ID


def _key(key_id: str) -> bytes:
    try:
        return settings.CUSTODY_HMAC_KEYS[key_id].encode()
    except KeyError:
        raise UnknownCustodyKey(key_id) from None


def canonical(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def keyed_hash(content: dict[str, Any], *, key_id: str) -> str:
    return hmac.new(_key(key_id), canonical(content), hashlib.sha256).hexdigest()


def event_content(event: Any) -> dict[str, Any]:
    content = {name: getattr(event, name) for name in EVENT_FIELDS}
    content["occurred_at"] = event.occurred_at.isoformat()
    return content


def event_hash(event: Any) -> str:
    """The HMAC of a custody event, with the key its `key_id` names."""
    return keyed_hash(event_content(event), key_id=event.key_id)


def head_hash(head: Any) -> str:
    """The HMAC of a chain-head row, with the key its `key_id` names."""
    return keyed_hash({name: getattr(head, name) for name in HEAD_FIELDS}, key_id=head.key_id)


def hashes_match(recorded: str, computed: str) -> bool:
    return hmac.compare_digest(recorded, computed)
