"""Custody the database owner cannot rewrite (issue 26).

- Every event's hash becomes an HMAC-SHA256 with a key outside the database
  (CUSTODY_HMAC_KEYS), its key id stored beside it. Events recorded before, with unkeyed
  SHA-256, are first verified as they stand (a broken chain stops the migration: re-hashing
  it would launder the tampering) and then re-hashed with the current key, so that no
  unkeyed hash, which anyone can recompute, is accepted afterwards.
- The head log (CustodyChainHead) gets one row per existing chain.
- Triggers: the head log refuses UPDATE and DELETE, and both tables refuse TRUNCATE (which
  row triggers do not see).
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.db import migrations, models

CHAIN_START = "0" * 64
LEGACY_FIELDS = (
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
)


# Frozen copies of the canonical forms (incidents/custody_hashing.py at this migration).
def _canonical(content):
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _event_content(event, fields):
    content = {name: getattr(event, name) for name in fields}
    content["occurred_at"] = event.occurred_at.isoformat()
    return content


def _hmac(content, key_id):
    key = settings.CUSTODY_HMAC_KEYS[key_id].encode()
    return hmac.new(key, _canonical(content), hashlib.sha256).hexdigest()


def rehash_and_record_heads(apps, schema_editor):
    CustodyEvent = apps.get_model("incidents", "CustodyEvent")
    CustodyChainHead = apps.get_model("incidents", "CustodyChainHead")
    key_id = settings.CUSTODY_HMAC_KEY_ID
    events = list(CustodyEvent.objects.order_by("weapon_id", "sequence"))
    if not events:
        return
    broken = set()
    expected = {}
    for event in events:
        position, previous = expected.get(event.weapon_id, (0, CHAIN_START))
        legacy = hashlib.sha256(_canonical(_event_content(event, LEGACY_FIELDS))).hexdigest()
        if (event.sequence, event.previous_hash, event.hash) != (position + 1, previous, legacy):
            broken.add(event.weapon_id)
        expected[event.weapon_id] = (event.sequence, event.hash)
    if broken:
        raise RuntimeError(
            "Chains of custody already broken, not re-hashed (investigate first): weapons "
            + ", ".join(map(str, sorted(broken)))
        )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("ALTER TABLE incidents_custodyevent DISABLE TRIGGER custody_append_only")
    heads = {}
    previous_by_weapon = {}
    for event in events:
        event.previous_hash = previous_by_weapon.get(event.weapon_id, CHAIN_START)
        event.key_id = key_id
        event.hash = _hmac(_event_content(event, (*LEGACY_FIELDS, "key_id")), key_id)
        event.save(update_fields=["previous_hash", "key_id", "hash"])
        previous_by_weapon[event.weapon_id] = event.hash
        heads[event.weapon_id] = (event.sequence, event.hash)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("ALTER TABLE incidents_custodyevent ENABLE TRIGGER custody_append_only")
    previous = CHAIN_START
    for position, (weapon_id, (count, last_hash)) in enumerate(sorted(heads.items()), start=1):
        content = {
            "position": position,
            "weapon_id": weapon_id,
            "event_count": count,
            "last_hash": last_hash,
            "previous_hash": previous,
            "key_id": key_id,
        }
        head = CustodyChainHead.objects.create(**content, hash=_hmac(content, key_id))
        previous = head.hash


TRIGGERS = """
CREATE FUNCTION incidents_refuse_rewrite() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER custody_heads_append_only
    BEFORE UPDATE OR DELETE ON incidents_custodychainhead
    FOR EACH ROW EXECUTE FUNCTION incidents_refuse_rewrite();
CREATE TRIGGER custody_heads_no_truncate
    BEFORE TRUNCATE ON incidents_custodychainhead
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_refuse_rewrite();
CREATE TRIGGER custody_no_truncate
    BEFORE TRUNCATE ON incidents_custodyevent
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_refuse_rewrite();
"""

REVERSE_TRIGGERS = """
DROP TRIGGER custody_no_truncate ON incidents_custodyevent;
DROP TRIGGER custody_heads_no_truncate ON incidents_custodychainhead;
DROP TRIGGER custody_heads_append_only ON incidents_custodychainhead;
DROP FUNCTION incidents_refuse_rewrite();
"""


class Migration(migrations.Migration):
    dependencies = [("incidents", "0017_incident_near_border")]

    operations = [
        migrations.AddField(
            model_name="custodyevent",
            name="key_id",
            field=models.CharField(default="", max_length=20),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name="CustodyChainHead",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveBigIntegerField(unique=True)),
                ("weapon_id", models.BigIntegerField(db_index=True)),
                ("event_count", models.PositiveIntegerField()),
                ("last_hash", models.CharField(max_length=64)),
                ("previous_hash", models.CharField(max_length=64)),
                ("key_id", models.CharField(max_length=20)),
                ("hash", models.CharField(max_length=64, unique=True)),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["position"]},
        ),
        migrations.RunPython(rehash_and_record_heads, migrations.RunPython.noop),
        migrations.RunSQL(TRIGGERS, REVERSE_TRIGGERS),
    ]
