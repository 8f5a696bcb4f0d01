"""The signature of a webhook delivery, as the receiver checks it (docs/clients/webhooks.md).

    X-ArmsMonitor-Timestamp: <unix seconds when this attempt was sent>
    X-ArmsMonitor-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under the secret>

The timestamp is inside the signed string, so a captured delivery replayed later with a
fresh timestamp does not verify, and a receiver refuses an old timestamp (5 minutes).
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_PREFIX", "webhook_signature"]

SIGNATURE_PREFIX = "sha256="


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The X-ArmsMonitor-Signature header's value for `body` sent at `timestamp`."""
    signed = f"{timestamp}.".encode() + body
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
