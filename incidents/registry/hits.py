"""Checking the queue of weapons and registry entries (filled by the triggers in the
writing transaction, so no write path can skip it) and recording the hits found.

`hits_check_soon()` asks a worker to check once the writing transaction commits; the beat
schedule also runs the check every minute, for writes that did not ask (admin, raw SQL).
The check takes a batch of the queue, matches it in one statement per direction
(matching.py), writes the new hits in one statement (a hit already recorded for the pair,
and what was decided of it, stays), tells their readers, and deletes the batch — all in
one transaction, so a worker killed midway leaves the batch queued for the next run.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from celery import current_app
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from incidents.models import Incident, WeaponHit
from incidents.notifications import notify_hits
from incidents.registry.choices import HitState
from incidents.registry.matching import (
    SerialMatch,
    entries_against_seizures,
    weapons_against_registry,
    weapons_against_seizures,
)
from organisations.access import AgencyPrincipal
from organisations.choices import WebhookEventType
from organisations.models import Agency
from organisations.webhooks import webhook_event_send

logger = logging.getLogger(__name__)

# By name: incidents.tasks imports the importer, which calls this module.
CHECK_TASK = "incidents.tasks.check_registry_hits"
BATCH = 500

INSERT_HITS = """
INSERT INTO incidents_weaponhit
    (weapon_id, registry_entry_id, other_weapon_id, weapon_serial, matched_serial, score,
     reason, make_agreement, state, dismissal_reason, found_at)
SELECT * FROM unnest(
    %s::bigint[], %s::bigint[], %s::bigint[], %s::text[], %s::text[], %s::float[],
    %s::text[], %s::text[]
), LATERAL (SELECT 'new', '', now()) AS fresh
ON CONFLICT DO NOTHING
RETURNING id
"""


def hits_check_soon() -> None:
    """Once the current transaction commits, ask a worker to check the queue."""
    transaction.on_commit(_send_check)


def _send_check() -> None:
    # After the commit: a broker that is down delays the check to the next beat, never
    # loses it (the queue is in the database).
    try:
        current_app.send_task(CHECK_TASK)
    except Exception:
        logger.exception("The registry hit check could not be queued.")


def _claim(batch: int) -> tuple[list[int], list[int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            DELETE FROM incidents_hitcheck WHERE id IN (
                SELECT id FROM incidents_hitcheck ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
            ) RETURNING weapon_id, registry_entry_id
            """,
            [batch],
        )
        rows = cursor.fetchall()
    weapons = sorted({weapon for weapon, _entry in rows if weapon is not None})
    entries = sorted({entry for _weapon, entry in rows if entry is not None})
    return weapons, entries


def _rows(matches: Iterable[SerialMatch], *, kind: str) -> list[tuple]:
    """(weapon, entry, other weapon, weapon's serial, matched serial, score, reason, make)."""
    rows: list[tuple] = []
    for match in matches:
        if kind == "registry":
            rows.append((match.source_id, match.owner_id, None, match.source_serial, match.serial))
        elif kind == "entry":
            rows.append((match.owner_id, match.source_id, None, match.serial, match.source_serial))
        else:  # two seizures: the newer weapon holds the hit, the older is the other
            source_id = match.source_id or 0  # a seized weapon: never None here
            newer, older = max(source_id, match.owner_id), min(source_id, match.owner_id)
            serials = (match.source_serial, match.serial)
            if newer != match.source_id:
                serials = serials[::-1]
            rows.append((newer, None, older, *serials))
        rows[-1] += (match.score, match.reason, match.make_agreement)
    return rows


def hits_record(rows: list[tuple]) -> list[WeaponHit]:
    """Write the hits not recorded yet; return them."""
    if not rows:
        return []
    columns = list(zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(INSERT_HITS, [list(column) for column in columns])
        created = [row[0] for row in cursor.fetchall()]
    return list(WeaponHit.objects.filter(pk__in=created))


def hits_check(*, batch: int = BATCH) -> int:
    """Check the queue until it is empty; return how many hits were found new."""
    found = 0
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                # The check never holds up a writer that locks a table whole (a migration,
                # a TRUNCATE): it gives up its batch, still queued, before PostgreSQL would
                # look for a deadlock (deadlock_timeout, 1 s), and the next run takes it.
                cursor.execute("SET LOCAL lock_timeout = '100ms'")
            weapons, entries = _claim(batch)
            if not weapons and not entries:
                return found
            rows = []
            if weapons:
                rows += _rows(weapons_against_registry(weapons), kind="registry")
                rows += _rows(weapons_against_seizures(weapons), kind="seizures")
            if entries:
                rows += _rows(entries_against_seizures(entries), kind="entry")
            best = _best_per_pair(rows)
            hits_withdraw_stale(weapons=weapons, entries=entries, found=best)
            hits = hits_record(best)
            notify_hits(hits)
            agency_events_send(hit_agency_events(hits))
            found += len(hits)


# --- agencies ---------------------------------------------------------------------------

AGENCY_EVENT_TYPE = WebhookEventType.REGISTRY_HIT


@dataclass(frozen=True)
class AgencyEvent:
    agency: Agency
    event_type: str
    payload: dict


def hit_agency_payload(hit: WeaponHit, *, agency: Agency) -> dict:
    """What an agency that reported the registry entry is sent of a hit: its own entry, the
    reason and score, and the seizure only as far as the agency may read it (else who
    holds it, to ask for access)."""
    incident = hit.weapon.incident
    principal = AgencyPrincipal(agency=agency)
    visible = Incident.objects.visible_to(principal).filter(pk=incident.pk).exists()
    return {
        "hit": hit.pk,
        "registry_entry": hit.registry_entry_id,
        "reason": hit.reason,
        "score": hit.score,
        "make_agreement": hit.make_agreement,
        "found_at": hit.found_at.isoformat(),
        "seizure_visible": visible,
        "weapon": hit.weapon_id if visible else None,
        "incident": incident.pk if visible else None,
        "held_by": incident.mission.acronym,
    }


def hit_agency_events(hits: Iterable[WeaponHit]) -> list[AgencyEvent]:
    """The events of `hits` for the agencies whose registry entries they hit."""
    events = []
    for hit in hits:
        entry = hit.registry_entry
        agency = entry.agency if entry is not None else None
        if agency is not None:
            payload = hit_agency_payload(hit, agency=agency)
            events.append(AgencyEvent(agency, AGENCY_EVENT_TYPE, payload))
    return events


def agency_events_send(events: list[AgencyEvent]) -> None:
    """The one place where hits reach agencies: a signed webhook to each of the agency's
    endpoints that want hits (organisations/webhooks.py), written in the check's
    transaction and sent by a worker once it commits."""
    for event in events:
        webhook_event_send(agency=event.agency, event_type=event.event_type, payload=event.payload)


def hits_withdraw_stale(*, weapons: list[int], entries: list[int], found: list[tuple]) -> int:
    """Delete the undecided hits of the weapons and entries checked that their check no
    longer finds (a serial corrected, a make changed), with their notifications; a hit
    confirmed or dismissed stays, as the record of a decision. The check finds every
    pair of what it checked, in either direction (the matching is symmetric), so a pair
    not found no longer holds."""
    pairs = {row[:3] for row in found}
    undecided = WeaponHit.objects.filter(state=HitState.NEW).filter(
        Q(weapon_id__in=weapons) | Q(other_weapon_id__in=weapons) | Q(registry_entry_id__in=entries)
    )
    stale = [
        hit.pk
        for hit in undecided.only("pk", "weapon_id", "registry_entry_id", "other_weapon_id")
        if (hit.weapon_id, hit.registry_entry_id, hit.other_weapon_id) not in pairs
    ]
    if stale:
        WeaponHit.objects.filter(pk__in=stale).delete()
    return len(stale)


def _best_per_pair(rows: list[tuple]) -> list[tuple]:
    """One row per (weapon, entry, other weapon), the best score: a pair can be found from
    both of its sides in one batch."""
    best: dict[tuple, tuple] = {}
    for row in rows:
        pair = row[:3]
        if pair not in best or row[5] > best[pair][5]:
            best[pair] = row
    return list(best.values())


# --- reading ------------------------------------------------------------------------


@dataclass(frozen=True)
class HitRow:
    """A hit as its reader sees it on the hits page: each side whole where the reader may
    read it, else only who holds it (and, for a registry entry, whom to contact)."""

    hit: WeaponHit
    seized: str
    seized_url: str | None
    matched: str
    matched_url: str | None
    may_decide: bool


def hit_rows(hits, *, deciding_missions: set[int], superuser: bool) -> list[HitRow]:
    """`hits` from `WeaponHit.objects.visible_to(reader)` (annotated with the sides shown)."""
    rows = []
    for hit in hits:
        incident = hit.weapon.incident
        sides = {incident.mission_id}
        if hit.weapon_shown:
            seized = _("%(serial)s, seized in %(record)s") % {
                "serial": hit.weapon_serial,
                "record": incident,
            }
            seized_url = reverse("incidents:detail", args=[incident.pk])
        else:
            seized = _("Seized by %(holder)s: contact them.") % {"holder": incident.mission.acronym}
            seized_url = None
        if hit.registry_entry_id is not None:
            entry = hit.registry_entry
            sides.add(entry.mission_id)
            if hit.entry_shown:
                matched = _("%(serial)s, registry entry %(entry)s (%(circumstance)s, %(body)s)") % {
                    "serial": hit.matched_serial,
                    "entry": entry.pk,
                    "circumstance": entry.get_circumstance_display(),
                    "body": entry.reporting_body,
                }
            else:
                matched = _("Reported by %(holder)s: contact %(contact)s.") % {
                    "holder": entry.reporting_body,
                    "contact": entry.contact,
                }
            matched_url = None
        else:
            other = hit.other_weapon.incident
            sides.add(other.mission_id)
            if hit.other_shown:
                matched = _("%(serial)s, seized in %(record)s") % {
                    "serial": hit.matched_serial,
                    "record": other,
                }
                matched_url = reverse("incidents:detail", args=[other.pk])
            else:
                matched = _("Seized by %(holder)s: contact them.") % {
                    "holder": other.mission.acronym
                }
                matched_url = None
        rows.append(
            HitRow(
                hit,
                seized,
                seized_url,
                matched,
                matched_url,
                superuser or bool(sides & deciding_missions),
            )
        )
    return rows
