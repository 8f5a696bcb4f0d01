"""The log of chain heads: after every custody event, the weapon's head, in its own table.

A chain of custody proves that no event in it was changed, not that none was removed from
its end, nor that a whole chain did not vanish. Each append therefore adds a row here, in
the same transaction: the weapon, how many events its chain now has, and the hash of the
last one. The rows form one chain of their own across all weapons (`position`, each row's
HMAC covering the one before), so removing a head row breaks that chain, and removing a
weapon's last event leaves its head disagreeing with its chain. What the database owner
could still do, remove the newest events together with their head rows, is caught by the
signed daily digests of these heads (incidents/custody_digests.py), kept outside the
database.

Append-only like the events: armsmonitor/database_roles.py gives the application role only
SELECT and INSERT, and triggers refuse UPDATE, DELETE and TRUNCATE (migration incidents
0017).
"""

from django.db import models


class CustodyChainHead(models.Model):
    # The head log's own order; one row per custody event ever appended.
    position = models.PositiveBigIntegerField(unique=True)
    # The weapon's id, not a foreign key: the head names the weapon even if its row (and
    # its chain) were deleted by someone who owns the database.
    weapon_id = models.BigIntegerField(db_index=True)
    event_count = models.PositiveIntegerField()
    last_hash = models.CharField(max_length=64)
    previous_hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=20)
    hash = models.CharField(max_length=64, unique=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"head {self.position}: weapon {self.weapon_id}, {self.event_count} events"
