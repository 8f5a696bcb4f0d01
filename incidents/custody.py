"""Chains of custody: appending an event (with its head) and verifying every chain.

Three layers make a rewrite visible even to someone who owns the database (README,
"Custody integrity"):

1. each event's HMAC (incidents/custody_hashing.py), with a key outside the database, covers
   the event and the hash of the one before: a changed, inserted or recomputed event fails;
2. each append records the weapon's head in the head log (incidents/custody_heads.py),
   itself a keyed chain: a removed tail or a removed chain disagrees with its head;
3. the heads are published daily in signed digests (incidents/custody_digests.py), outside
   the database: removing the newest events together with their head rows, or emptying
   both tables, disagrees with every digest published since.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import rules
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import custody_digests
from incidents.choices import CustodyEventKind, Disposition
from incidents.custody_hashing import (
    UnknownCustodyKey,
    current_key_id,
    event_hash,
    hashes_match,
    head_hash,
)
from incidents.custody_heads import CustodyChainHead
from incidents.models import CustodyEvent, WeaponItem
from organisations.audit import record_write

CHAIN_START = "0" * 64
CUSTODY_DISPOSITIONS = {
    CustodyEventKind.STORED: Disposition.STORED,
    CustodyEventKind.TRANSFERRED: Disposition.TRANSFERRED,
    CustodyEventKind.DESTROYED: Disposition.DESTROYED,
}
REQUIRED_FIELDS = {
    CustodyEventKind.TRANSFERRED: ("transferred_to",),
    CustodyEventKind.DESTROYED: ("destruction_method", "witnessed_by"),
}
# One lock for the head log: its rows form a single chain, so appends take turns (custody
# events are few; a transaction holds it for milliseconds).
HEAD_LOG_LOCK = 0x6375737464790001


@transaction.atomic
def custody_event_append(*, weapon: WeaponItem, by: AbstractBaseUser, **event) -> CustodyEvent:
    """Add the next event to a weapon's chain of custody, and record the chain's new head."""
    if not rules.has_perm("incidents.record_custody", by, weapon.incident):
        raise PermissionDenied(_("You may not %(action)s this record.") % {"action": "record"})
    # Lock the weapon so that two events recorded at once cannot take the same place.
    WeaponItem.objects.select_for_update().get(pk=weapon.pk)
    last = weapon.custody_events.order_by("-sequence").first()
    new_event = CustodyEvent(
        weapon=weapon,
        recorded_by=by,
        sequence=last.sequence + 1 if last else 1,
        previous_hash=last.hash if last else CHAIN_START,
        key_id=current_key_id(),
        **event,
    )
    if new_event.occurred_at > timezone.now():
        raise ValidationError({"occurred_at": _("The date is in the future.")})
    missing = {
        name: _("Required for this event.")
        for name in REQUIRED_FIELDS.get(new_event.kind, ())
        if not getattr(new_event, name)
    }
    if missing:
        raise ValidationError(missing)
    new_event.hash = event_hash(new_event)
    new_event.full_clean()
    new_event.save()
    custody_head_record(event=new_event)
    # The weapon's current disposition follows its chain of custody.
    disposition = CUSTODY_DISPOSITIONS.get(new_event.kind)
    if disposition:
        weapon.disposition = disposition
        weapon._history_user = by
        weapon.save(update_fields=["disposition"])
    record_write(by, "custody.append", target=new_event)
    return new_event


def custody_head_record(*, event: CustodyEvent) -> CustodyChainHead:
    """Append the head of `event`'s chain to the head log; call inside the append's
    transaction, so that an event never commits without its head."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [HEAD_LOG_LOCK])
    last = CustodyChainHead.objects.order_by("-position").first()
    head = CustodyChainHead(
        position=last.position + 1 if last else 1,
        weapon_id=event.weapon_id,
        event_count=event.sequence,
        last_hash=event.hash,
        previous_hash=last.hash if last else CHAIN_START,
        key_id=current_key_id(),
    )
    head.hash = head_hash(head)
    head.save()
    return head


# --- verification ---------------------------------------------------------------------


@dataclass
class _Chain:
    hashes: list[str] = field(default_factory=list)  # by sequence, from 1


def _keyed_hash_matches(row, compute) -> bool | None:
    """True or False; None when the row names a key that is not configured."""
    try:
        return hashes_match(row.hash, compute(row))
    except UnknownCustodyKey:
        return None


def _verify_events(problems: list[str]) -> dict[int, _Chain]:
    chains: dict[int, _Chain] = {}
    for event in CustodyEvent.objects.order_by("weapon_id", "sequence").iterator():
        chain = chains.setdefault(event.weapon_id, _Chain())
        position = len(chain.hashes)
        previous = chain.hashes[-1] if chain.hashes else CHAIN_START
        label = f"weapon {event.weapon_id}, event {event.sequence}"
        if event.sequence != position + 1:
            problems.append(f"{label}: expected event {position + 1} (an event is missing)")
        if event.previous_hash != previous:
            problems.append(f"{label}: does not follow the event before it")
        matches = _keyed_hash_matches(event, event_hash)
        if matches is None:
            problems.append(f"{label}: signed with key {event.key_id!r}, not in CUSTODY_HMAC_KEYS")
        elif not matches:
            problems.append(f"{label}: its content or hash was changed after it was recorded")
        # Padded so that a missing event keeps the later ones at their recorded sequence.
        chain.hashes.extend([""] * (event.sequence - 1 - position))
        chain.hashes.append(event.hash)
    return chains


def _compare_head(
    chains: dict[int, _Chain], weapon_id: int, event_count: int, last_hash: str, source: str
) -> str | None:
    """What is wrong with weapon `weapon_id`'s chain against a head recorded in `source`."""
    chain = chains.get(weapon_id)
    if chain is None:
        return (
            f"weapon {weapon_id}: its whole chain of custody is missing ({source} recorded "
            f"{event_count} events)"
        )
    if len(chain.hashes) < event_count:
        return (
            f"weapon {weapon_id}: its chain ends at event {len(chain.hashes)}, but {source} "
            f"recorded {event_count} events (events removed from its end)"
        )
    if chain.hashes[event_count - 1] == "":
        return f"weapon {weapon_id}: event {event_count}, which {source} recorded, is missing"
    if chain.hashes[event_count - 1] != last_hash:
        return (
            f"weapon {weapon_id}: event {event_count} is not the one {source} recorded "
            "(the chain was rewritten)"
        )
    return None


def _verify_heads(problems: list[str], chains: dict[int, _Chain]) -> set[int]:
    """Check the head log's own chain, and every weapon's chain against its heads (its
    latest head first: a removed tail or chain; then every earlier head: a rewrite). Return
    the weapons found wrong, so that the digests do not report them again."""
    heads: dict[int, list[tuple[int, str]]] = {}
    expected_position, previous = 1, CHAIN_START
    for head in CustodyChainHead.objects.order_by("position").iterator():
        label = f"head log, position {head.position} (weapon {head.weapon_id})"
        if head.position != expected_position:
            problems.append(f"{label}: expected position {expected_position} (a head is missing)")
        if head.previous_hash != previous:
            problems.append(f"{label}: does not follow the head before it")
        matches = _keyed_hash_matches(head, head_hash)
        if matches is None:
            problems.append(f"{label}: signed with key {head.key_id!r}, not in CUSTODY_HMAC_KEYS")
        elif not matches:
            problems.append(f"{label}: its content or hash was changed after it was recorded")
        heads.setdefault(head.weapon_id, []).append((head.event_count, head.last_hash))
        expected_position, previous = head.position + 1, head.hash
    reported: set[int] = set()
    for weapon_id, recorded in sorted(heads.items()):
        for event_count, last_hash in reversed(recorded):
            problem = _compare_head(chains, weapon_id, event_count, last_hash, "the head log")
            if problem:
                problems.append(problem)
                reported.add(weapon_id)
                break
    for weapon_id, chain in sorted(chains.items()):
        if weapon_id not in heads:
            problems.append(f"weapon {weapon_id}: its chain has no head in the head log")
            reported.add(weapon_id)
        elif len(chain.hashes) > heads[weapon_id][-1][0] and weapon_id not in reported:
            problems.append(
                f"weapon {weapon_id}: {len(chain.hashes)} events, but its last head records "
                f"{heads[weapon_id][-1][0]} (events added without a head)"
            )
            reported.add(weapon_id)
    return reported


def _verify_digests(
    problems: list[str],
    chains: dict[int, _Chain],
    digest_paths: Iterable[Path] | None,
    reported: set[int],
) -> int:
    """Check the digests (signatures, their own chain) and every chain against them, newest
    first, naming each weapon once. Returns how many digests were read."""
    digests, digest_problems = custody_digests.custody_digests_read(extra=digest_paths)
    problems.extend(digest_problems)
    heads_by_position = {}
    if digests:
        wanted = {digest.heads_position for digest in digests}
        heads_by_position = dict(
            CustodyChainHead.objects.filter(position__in=wanted).values_list("position", "hash")
        )
    for digest in sorted(digests, key=lambda d: d.created_at, reverse=True):
        source = f"digest {digest.name}"
        if digest.heads_position and heads_by_position.get(digest.heads_position) != (
            digest.heads_hash
        ):
            problems.append(
                f"head log: position {digest.heads_position} is not the head {source} "
                "recorded (the head log was cut back or rewritten)"
            )
        for weapon_id, event_count, last_hash in digest.chains:
            if weapon_id in reported:
                continue
            problem = _compare_head(chains, weapon_id, event_count, last_hash, source)
            if problem:
                problems.append(problem)
                reported.add(weapon_id)
    return len(digests)


@dataclass
class CustodyVerification:
    problems: list[str]
    events: int
    chains: int
    digests: int


def custody_chains_verify_all(*, digest_paths: Iterable[Path] | None = None) -> CustodyVerification:
    """Verify every chain's HMACs, the head log, and every digest in CUSTODY_DIGEST_DIR
    (plus `digest_paths`, e.g. an agency's copies)."""
    problems: list[str] = []
    chains = _verify_events(problems)
    reported = _verify_heads(problems, chains)
    digests = _verify_digests(problems, chains, digest_paths, reported)
    return CustodyVerification(
        problems=problems,
        events=sum(len(chain.hashes) for chain in chains.values()),
        chains=len(chains),
        digests=digests,
    )


def custody_chains_verify(*, digest_paths: Iterable[Path] | None = None) -> list[str]:
    """Recompute every chain; return one line per problem, naming the weapon (empty: all
    intact)."""
    return custody_chains_verify_all(digest_paths=digest_paths).problems
