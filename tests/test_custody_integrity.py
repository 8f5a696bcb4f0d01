"""Custody the database owner cannot rewrite (issue 26): keyed hashes, the head log, signed
digests and TRUNCATE triggers, and `verify_custody_chains` naming the weapon of each kind of
tampering.

The owner is played by the test connection (a superuser) switching the append-only
triggers off for its transaction (`SET LOCAL session_replication_role = replica`), as the
owner of the tables could with ALTER TABLE ... DISABLE TRIGGER."""

import hashlib
import hmac
import json
import subprocess
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from incidents import custody_hashing
from incidents.custody import CHAIN_START, custody_chains_verify, custody_event_append
from incidents.custody_digests import custody_digest_publish, digest_names, public_key
from incidents.models import CustodyChainHead, CustodyEvent, WeaponItem
from organisations.models import AuditEvent


def _chain(world, make="Norinco") -> WeaponItem:
    """A weapon documented, stored, then destroyed: three events."""
    weapon = WeaponItem.objects.create(
        incident=world.records["alpha_verified_L1"], category="assault_rifle", make=make
    )
    start = timezone.now() - timedelta(days=10)
    for offset, kind, extra in [
        (0, "documented", {}),
        (1, "stored", {"place": "Bangui depot"}),
        (5, "destroyed", {"destruction_method": "cut", "witnessed_by": "UNMAS officer"}),
    ]:
        custody_event_append(
            weapon=weapon,
            by=world.users["reporter_alpha"],
            kind=kind,
            occurred_at=start + timedelta(days=offset),
            **extra,
        )
    return weapon


def _as_owner(*statements: tuple[str, list]) -> None:
    """Run statements as the database owner would, with the append-only triggers off."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL session_replication_role = replica")
        for statement, parameters in statements:
            cursor.execute(statement, parameters)
        cursor.execute("SET LOCAL session_replication_role = origin")


def _problems_naming(weapon: WeaponItem) -> list[str]:
    return [p for p in custody_chains_verify() if f"weapon {weapon.pk}" in p]


# --- keyed hashes -------------------------------------------------------------------------


def test_each_event_carries_an_hmac_with_the_current_key_and_its_id(world, settings):
    weapon = _chain(world)
    event = weapon.custody_events.order_by("sequence").last()

    assert event.key_id == settings.CUSTODY_HMAC_KEY_ID
    key = settings.CUSTODY_HMAC_KEYS[event.key_id].encode()
    content = custody_hashing.canonical(custody_hashing.event_content(event))
    assert event.hash == hmac.new(key, content, hashlib.sha256).hexdigest()
    # Not the unkeyed SHA-256 that anyone could recompute.
    assert event.hash != hashlib.sha256(content).hexdigest()
    assert custody_chains_verify() == []


def test_a_rotated_key_keeps_older_events_verifiable_while_it_stays_listed(world, settings):
    settings.CUSTODY_HMAC_KEYS = {"old": "o" * 40}
    settings.CUSTODY_HMAC_KEY_ID = "old"
    weapon = _chain(world)
    settings.CUSTODY_HMAC_KEYS = {"old": "o" * 40, "new": "n" * 40}
    settings.CUSTODY_HMAC_KEY_ID = "new"
    custody_event_append(
        weapon=weapon,
        by=world.users["reporter_alpha"],
        kind="stored",
        occurred_at=timezone.now(),
        place="second depot",
    )

    assert [e.key_id for e in weapon.custody_events.order_by("sequence")] == [
        "old",
        "old",
        "old",
        "new",
    ]
    assert custody_chains_verify() == []

    settings.CUSTODY_HMAC_KEYS = {"new": "n" * 40}  # the old key dropped too early
    assert f"weapon {weapon.pk}, event 1: signed with key 'old', not in CUSTODY_HMAC_KEYS" in (
        custody_chains_verify()
    )


def test_each_append_records_the_chains_head_in_the_head_log(world):
    weapon = _chain(world)
    other = _chain(world, make="Zastava")

    heads = list(CustodyChainHead.objects.order_by("position"))
    assert [(h.weapon_id, h.event_count) for h in heads] == [
        (weapon.pk, 1),
        (weapon.pk, 2),
        (weapon.pk, 3),
        (other.pk, 1),
        (other.pk, 2),
        (other.pk, 3),
    ]
    assert heads[2].last_hash == weapon.custody_events.get(sequence=3).hash
    assert heads[0].previous_hash == CHAIN_START
    assert [h.previous_hash for h in heads[1:]] == [h.hash for h in heads[:-1]]


def test_the_head_log_cannot_be_changed_deleted_or_truncated(world):
    _chain(world)
    head = CustodyChainHead.objects.first()
    for attempt in (
        lambda: CustodyChainHead.objects.filter(pk=head.pk).update(event_count=9),
        lambda: CustodyChainHead.objects.filter(pk=head.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()


@pytest.mark.parametrize(
    "table", ["incidents_custodyevent", "incidents_custodychainhead", "organisations_auditevent"]
)
def test_truncate_is_refused_even_to_a_superuser(world, table):
    _chain(world)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {table} CASCADE")


# --- tampering by the database owner, each detected with the weapon named ----------------


def test_a_deleted_tail_is_detected_against_the_head_log(world):
    weapon = _chain(world)
    _as_owner(
        (
            "DELETE FROM incidents_custodyevent WHERE weapon_id = %s AND kind = 'destroyed'",
            [weapon.pk],
        )
    )

    assert _problems_naming(weapon) == [
        f"weapon {weapon.pk}: its chain ends at event 2, but the head log recorded 3 events "
        "(events removed from its end)"
    ]
    with pytest.raises(CommandError, match="1 problems"):
        call_command("verify_custody_chains")


def test_a_deleted_tail_with_its_head_rows_is_detected_against_an_earlier_digest(world):
    weapon = _chain(world)
    custody_digest_publish()
    last_head = CustodyChainHead.objects.order_by("-position").first()
    _as_owner(
        (
            "DELETE FROM incidents_custodyevent WHERE weapon_id = %s AND sequence = 3",
            [weapon.pk],
        ),
        ("DELETE FROM incidents_custodychainhead WHERE position = %s", [last_head.position]),
    )

    problems = custody_chains_verify()

    assert [p for p in problems if f"weapon {weapon.pk}" in p] == [
        f"weapon {weapon.pk}: its chain ends at event 2, but digest {digest_names()[0]} "
        "recorded 3 events (events removed from its end)"
    ]
    assert any("the head log was cut back" in p for p in problems)


def test_a_whole_chain_deleted_is_detected_by_the_head_log_and_by_the_digests(world):
    weapon, kept = _chain(world), _chain(world, make="Zastava")
    custody_digest_publish()
    _as_owner(("DELETE FROM incidents_custodyevent WHERE weapon_id = %s", [weapon.pk]))

    assert _problems_naming(weapon) == [
        f"weapon {weapon.pk}: its whole chain of custody is missing (the head log recorded "
        "3 events)"
    ]

    # The owner removes the weapon's heads too: the digest still names it.
    _as_owner(("DELETE FROM incidents_custodychainhead WHERE weapon_id = %s", [weapon.pk]))
    problems = _problems_naming(weapon)
    assert (
        f"weapon {weapon.pk}: its whole chain of custody is missing (digest "
        f"{digest_names()[0]} recorded 3 events)"
    ) in problems
    # The kept chain is intact; the head log shows the hole its removed heads left.
    assert [p for p in custody_chains_verify() if p.startswith(f"weapon {kept.pk}")] == []
    assert any("a head is missing" in p for p in custody_chains_verify())


def test_a_chain_rewritten_with_recomputed_unkeyed_hashes_is_detected(world):
    weapon = _chain(world)
    # The owner changes the witness of the destruction and recomputes every hash the way
    # the platform did before issue 26 (unkeyed SHA-256), the heads too.
    _as_owner(
        (
            "UPDATE incidents_custodyevent SET witnessed_by = 'nobody' "
            "WHERE weapon_id = %s AND sequence = 3",
            [weapon.pk],
        )
    )
    previous = CHAIN_START
    for event in CustodyEvent.objects.filter(weapon=weapon).order_by("sequence"):
        event.previous_hash = previous
        content = custody_hashing.canonical(custody_hashing.event_content(event))
        rewritten = hashlib.sha256(content).hexdigest()
        _as_owner(
            (
                "UPDATE incidents_custodyevent SET previous_hash = %s, hash = %s WHERE id = %s",
                [previous, rewritten, event.pk],
            ),
            (
                "UPDATE incidents_custodychainhead SET last_hash = %s "
                "WHERE weapon_id = %s AND event_count = %s",
                [rewritten, weapon.pk, event.sequence],
            ),
        )
        previous = rewritten

    problems = _problems_naming(weapon)

    assert [
        f"weapon {weapon.pk}, event {n}: its content or hash was changed after it was recorded"
        for n in (1, 2, 3)
    ] == [p for p in problems if "its content or hash" in p and f"weapon {weapon.pk}," in p]
    assert any("head log" in p for p in custody_chains_verify())


def test_a_chain_rewritten_with_a_wrong_key_is_detected(world, settings):
    weapon = _chain(world)
    custody_digest_publish()
    # The owner guesses a key (or uses one of their own) and rewrites the whole chain and
    # its heads consistently with it.
    real_keys = dict(settings.CUSTODY_HMAC_KEYS)
    settings.CUSTODY_HMAC_KEYS = {settings.CUSTODY_HMAC_KEY_ID: "a-guessed-key-" + "x" * 30}
    previous = CHAIN_START
    for event in CustodyEvent.objects.filter(weapon=weapon).order_by("sequence"):
        event.previous_hash = previous
        if event.sequence == 3:
            event.witnessed_by = "nobody"
        rewritten = custody_hashing.event_hash(event)
        _as_owner(
            (
                "UPDATE incidents_custodyevent SET previous_hash = %s, hash = %s, "
                "witnessed_by = %s WHERE id = %s",
                [previous, rewritten, event.witnessed_by, event.pk],
            )
        )
        previous = rewritten
    settings.CUSTODY_HMAC_KEYS = real_keys

    problems = _problems_naming(weapon)

    assert (
        f"weapon {weapon.pk}, event 3: its content or hash was changed after it was recorded"
        in (problems)
    )
    assert (
        f"weapon {weapon.pk}: event 3 is not the one the head log recorded (the chain was "
        "rewritten)"
    ) in problems


def test_a_truncate_of_both_tables_is_detected_against_the_digests(world):
    weapons = [_chain(world), _chain(world, make="Zastava")]
    custody_digest_publish()
    _as_owner(("TRUNCATE incidents_custodyevent, incidents_custodychainhead", []))

    problems = custody_chains_verify()

    for weapon in weapons:
        assert (
            f"weapon {weapon.pk}: its whole chain of custody is missing (digest "
            f"{digest_names()[0]} recorded 3 events)"
        ) in problems
    with pytest.raises(CommandError):
        call_command("verify_custody_chains")


def test_a_truncate_of_the_events_alone_is_detected_against_the_head_log(world):
    weapon = _chain(world)
    _as_owner(("TRUNCATE incidents_custodyevent", []))

    assert _problems_naming(weapon) == [
        f"weapon {weapon.pk}: its whole chain of custody is missing (the head log recorded "
        "3 events)"
    ]


# --- the digests --------------------------------------------------------------------------


def test_a_digest_is_signed_chains_on_the_one_before_and_verifies_with_openssl(world, tmp_path):
    weapon = _chain(world)
    first = custody_digest_publish()
    custody_event_append(
        weapon=_chain(world, make="Zastava"),
        by=world.users["reporter_alpha"],
        kind="stored",
        occurred_at=timezone.now(),
    )
    second = custody_digest_publish()

    document = json.loads(second.read_bytes())
    assert document["previous_digest"] == {
        "name": first.name,
        "sha256": hashlib.sha256(first.read_bytes()).hexdigest(),
    }
    chains = {chain["weapon"]: chain for chain in document["chains"]}
    assert chains[weapon.pk] == {
        "weapon": weapon.pk,
        "events": 3,
        "last_hash": weapon.custody_events.get(sequence=3).hash,
    }
    # As an agency verifies it: the public key, the file and its signature, with openssl.
    key_file = tmp_path / "custody-signing-key.pub.pem"
    key_file.write_bytes(
        public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    verified = subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            str(key_file),
            "-rawin",
            "-in",
            str(second),
            "-sigfile",
            f"{second}.sig",
        ],
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0, verified.stderr
    assert "Signature Verified Successfully" in verified.stdout
    assert custody_chains_verify() == []
    call_command("verify_custody_chains")


def test_a_changed_or_removed_digest_is_reported(world, settings):
    _chain(world)
    _first, second, third = (custody_digest_publish() for _ in range(3))
    second.unlink()
    third.write_bytes(third.read_bytes().replace(b'"events": 3', b'"events": 2'))

    problems = custody_chains_verify()

    assert f"digest {third.name}: does not follow the digest before it (one removed?)" in (problems)
    assert f"digest {third.name}: its signature does not verify (changed or forged)" in problems


def test_an_agencys_own_copy_of_a_digest_is_checked_too(world, tmp_path):
    weapon = _chain(world)
    published = custody_digest_publish()
    kept = tmp_path / published.name
    kept.write_bytes(published.read_bytes())
    (tmp_path / f"{published.name}.sig").write_bytes(
        published.with_name(f"{published.name}.sig").read_bytes()
    )
    # The owner removes the tail, its heads, and the digest from the server's folder.
    last = CustodyChainHead.objects.order_by("-position").first()
    _as_owner(
        ("DELETE FROM incidents_custodyevent WHERE weapon_id = %s AND sequence = 3", [weapon.pk]),
        ("DELETE FROM incidents_custodychainhead WHERE position = %s", [last.position]),
    )
    published.unlink()
    assert custody_chains_verify() == []  # nothing left on the server to contradict it

    with pytest.raises(CommandError):
        call_command("verify_custody_chains", "--digest", str(kept))
    assert f"weapon {weapon.pk}: its chain ends at event 2, but digest {kept.name} " in " ".join(
        custody_chains_verify(digest_paths=[kept])
    )


def test_the_publish_command_writes_a_digest(world, settings, capsys):
    _chain(world)
    call_command("publish_custody_digest")

    assert len(digest_names()) == 1
    assert (settings.CUSTODY_DIGEST_DIR / "custody-signing-key.pub.pem").exists()


# --- the API: agencies download the digests and the public key ----------------------------


def test_an_agency_lists_and_downloads_the_digests_and_the_public_key(world, client):
    _chain(world)
    digest = custody_digest_publish()
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {world.api_keys['partner_agency']}"}

    listed = client.get("/api/v1/custody-digests", **auth)
    assert listed.status_code == 200
    assert [entry["name"] for entry in listed.json()] == [digest.name]

    body = client.get(listed.json()[0]["url"], **auth)
    assert body.status_code == 200
    assert b"".join(body.streaming_content) == digest.read_bytes()
    signature = client.get(listed.json()[0]["signature_url"], **auth)
    assert signature.status_code == 200
    signature_bytes = b"".join(signature.streaming_content)
    key = client.get("/api/v1/custody-digests/public-key", **auth)
    assert key.status_code == 200
    public = serialization.load_pem_public_key(key.content)
    public.verify(signature_bytes, digest.read_bytes())  # raises if it does not verify

    actions = list(
        AuditEvent.objects.filter(action__startswith="custody_digest.").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == sorted(
        [
            "custody_digest.list",
            "custody_digest.download",
            "custody_digest.download",
            "custody_digest.public_key",
        ]
    )


def test_the_digests_are_not_served_without_credentials_nor_outside_their_folder(world, client):
    custody_digest_publish()
    assert client.get("/api/v1/custody-digests").status_code in (401, 403)
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {world.api_keys['partner_agency']}"}
    assert (
        client.get(
            "/api/v1/custody-digests/custody-digest-20200101T000000000000Z.json", **auth
        ).status_code
        == 404
    )
    assert client.get("/api/v1/custody-digests/..%2Fsettings.py", **auth).status_code == 404


def test_the_daily_beat_task_publishes_a_digest(world, settings):
    from incidents.tasks import publish_custody_digest

    _chain(world)
    assert settings.CELERY_BEAT_SCHEDULE["publish-custody-digest"]["task"] == (
        "incidents.tasks.publish_custody_digest"
    )

    written = publish_custody_digest()  # the body, as a worker runs it

    assert digest_names() == [written.rsplit("/", 1)[-1]]
