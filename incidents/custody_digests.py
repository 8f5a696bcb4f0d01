"""Signed daily digests of the chain heads, kept outside the database.

A digest is a JSON file `custody-digest-<UTC time>.json` in CUSTODY_DIGEST_DIR (beside the
backups) holding every weapon's chain head (event count and last hash, from the head log),
the head log's own last position and hash, and the SHA-256 of the digest before it, so that
digests chain too. Beside it, `<name>.sig` holds the raw Ed25519 signature of the file's
exact bytes, and `custody-signing-key.pub.pem` the public key. The private key is read from
CUSTODY_SIGNING_KEY_FILE (PEM, PKCS#8), never stored in the database.

Agencies download the digests (API: /api/v1/custody-digests) and keep them: whoever rewrites
the database afterwards cannot make it agree with a digest they already hold, nor forge a
new one without the private key.
"""

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

FORMAT = "armsmonitor-custody-digest/1"
PREFIX = "custody-digest-"
NAME = re.compile(r"^custody-digest-\d{8}T\d{12}Z\.json$")
PUBLIC_KEY_FILE = "custody-signing-key.pub.pem"
# Only for DEBUG: a fixed, public development key, so that `make run` can publish digests.
_DEVELOPMENT_SEED = hashlib.sha256(b"armsmonitor development custody signing key").digest()

# Each weapon's latest head (the last row of the head log for that weapon), then the head
# log's own last row.
SNAPSHOT_SQL = """
(SELECT DISTINCT ON (weapon_id) 'chain', weapon_id, event_count, last_hash
 FROM incidents_custodychainhead ORDER BY weapon_id, position DESC)
UNION ALL
(SELECT 'log', position, 0, hash FROM incidents_custodychainhead ORDER BY position DESC LIMIT 1)
"""


@dataclass(frozen=True)
class Digest:
    name: str
    created_at: str
    heads_position: int
    heads_hash: str
    chains: list[tuple[int, int, str]]  # (weapon id, event count, last hash)


def digest_directory() -> Path:
    return Path(settings.CUSTODY_DIGEST_DIR)


def signing_key() -> Ed25519PrivateKey:
    path = settings.CUSTODY_SIGNING_KEY_FILE
    if not path:
        if settings.CUSTODY_DEVELOPMENT_SIGNING_KEY:
            return Ed25519PrivateKey.from_private_bytes(_DEVELOPMENT_SEED)
        raise ImproperlyConfigured(
            "CUSTODY_SIGNING_KEY_FILE must name the Ed25519 private key (PEM) that signs "
            "the custody digests."
        )
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured("CUSTODY_SIGNING_KEY_FILE must hold an Ed25519 private key.")
    return key


def public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


def public_key_pem() -> bytes:
    return public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def digest_names(directory: Path | None = None) -> list[str]:
    """The digests in the folder, oldest first (the names sort by time)."""
    directory = directory or digest_directory()
    if not directory.is_dir():
        return []
    return sorted(entry.name for entry in directory.iterdir() if NAME.match(entry.name))


def _write_atomically(path: Path, content: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    os.replace(partial, path)


def custody_digest_publish(*, directory: Path | None = None) -> Path:
    """Write and sign a digest of every chain head; return its path."""
    directory = directory or digest_directory()
    directory.mkdir(parents=True, exist_ok=True)
    key = signing_key()
    previous = digest_names(directory)
    previous_entry = None
    if previous:
        content = (directory / previous[-1]).read_bytes()
        previous_entry = {"name": previous[-1], "sha256": hashlib.sha256(content).hexdigest()}
    # One statement, one snapshot: the heads and the head log's last row agree.
    with connection.cursor() as cursor:
        cursor.execute(SNAPSHOT_SQL)
        rows = cursor.fetchall()
    chains = [
        {"weapon": weapon, "events": count, "last_hash": last}
        for part, weapon, count, last in rows
        if part == "chain"
    ]
    last_head = next(
        ((position, last) for part, position, _, last in rows if part == "log"), (0, "")
    )
    now = datetime.now(UTC)
    name = f"{PREFIX}{now:%Y%m%dT%H%M%S%f}Z.json"
    document = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "previous_digest": previous_entry,
        "head_log": {"position": last_head[0], "hash": last_head[1]},
        "signing_key_sha256": _fingerprint(key.public_key()),
        "chains": chains,
    }
    content = json.dumps(document, indent=1, sort_keys=True).encode() + b"\n"
    path = directory / name
    # The signature first: a digest is listed only once its signature is there.
    _write_atomically(directory / f"{name}.sig", key.sign(content))
    _write_atomically(directory / PUBLIC_KEY_FILE, public_key_pem())
    _write_atomically(path, content)
    return path


def _read(path: Path, key: Ed25519PublicKey) -> tuple[Digest | None, bytes, list[str]]:
    problems = []
    content = path.read_bytes()
    signature = path.with_name(f"{path.name}.sig")
    try:
        key.verify(signature.read_bytes(), content)
    except FileNotFoundError:
        problems.append(f"digest {path.name}: its signature file is missing")
    except InvalidSignature:
        problems.append(f"digest {path.name}: its signature does not verify (changed or forged)")
    try:
        document = json.loads(content)
        digest = Digest(
            name=path.name,
            created_at=document["created_at"],
            heads_position=document["head_log"]["position"],
            heads_hash=document["head_log"]["hash"],
            chains=[(c["weapon"], c["events"], c["last_hash"]) for c in document["chains"]],
        )
    except (ValueError, KeyError, TypeError):
        problems.append(f"digest {path.name}: not a custody digest")
        return None, content, problems
    return digest, content, problems


def custody_digests_read(*, extra: Iterable[Path] | None = None) -> tuple[list[Digest], list[str]]:
    """Every digest of the folder (and `extra` files), with what is wrong with them: a bad
    signature, a break in the digests' own chain (one removed or replaced)."""
    directory = digest_directory()
    names = digest_names(directory)
    if not names and not extra:
        return [], []
    key = public_key()
    digests, problems = [], []
    previous_sha256 = None
    for name in names:
        digest, content, digest_problems = _read(directory / name, key)
        problems += digest_problems
        if digest is None:
            continue
        recorded = json.loads(content).get("previous_digest")
        recorded_sha256 = recorded["sha256"] if recorded else None
        if previous_sha256 is not None and recorded_sha256 != previous_sha256:
            problems.append(f"digest {name}: does not follow the digest before it (one removed?)")
        previous_sha256 = hashlib.sha256(content).hexdigest()
        digests.append(digest)
    for path in extra or ():
        digest, _content, digest_problems = _read(Path(path), key)
        problems += digest_problems
        if digest is not None:
            digests.append(digest)
    return digests, problems


def digest_path(name: str) -> Path | None:
    """The digest `name` (or its signature, `<name>.sig`) in the folder, or None."""
    base = name.removesuffix(".sig")
    if not NAME.match(base):
        return None
    path = digest_directory() / name
    return path if path.is_file() else None
