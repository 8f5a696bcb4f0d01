"""The map's change log and its merge (incidents/derived/map_cells.py, merging.py): any
sequence of writes leaves the map answering as if counted from the incidents, before and
after the merge; a real worker merges; two merges at once count each change once; an edit
that changes nothing the map counts logs nothing."""

import threading
import uuid
from datetime import UTC, datetime

import pytest
from django.contrib.gis.geos import Point
from django.db import connection, connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.choices import WeaponCategory
from incidents.derived.map_cells import (
    GRAIN_CATEGORIES,
    GRAIN_CATEGORIES_MONTH,
    GRAIN_FULL,
    GRAIN_KIND_CONTEXT,
    GRAIN_MONTH,
    GRAIN_NONE,
    IncidentMapChange,
)
from incidents.derived.merging import map_changes_merge, map_changes_pending
from incidents.models import Incident, WeaponItem
from incidents.tasks import merge_map_changes
from tests.kept_counts import kept_equals_counted, kept_rows_are_counted_from_scratch
from tests.waiting import wait_for

# One filter per grain the reads choose from.
FILTERS = [
    (GRAIN_NONE, {}),
    (GRAIN_MONTH, {"occurred_after": "2024-06-01T00:00:00Z"}),
    (GRAIN_KIND_CONTEXT, {"kind": "cache_discovery"}),
    (GRAIN_FULL, {"context": "criminal", "occurred_before": "2025-02-28T23:59:59.999999Z"}),
    (GRAIN_CATEGORIES, {"category": ["assault_rifle", "mortar"]}),
    (GRAIN_CATEGORIES_MONTH, {"category": "smg", "occurred_after": "2024-01-01T00:00:00Z"}),
]
PLACES = [(18.55, 4.36), (16.1, 7.2), (22.4, 5.9), (-3.4, 12.1)]
CATEGORIES = [WeaponCategory.ASSAULT_RIFLE, WeaponCategory.MORTAR, WeaponCategory.SUB_MACHINE_GUN]

# What one step of a sequence does to the incident it draws (by index among those left).
write = st.one_of(
    st.tuples(st.just("move"), st.integers(0, 50), st.sampled_from(PLACES)),
    st.tuples(st.just("month"), st.integers(0, 50), st.integers(1, 12)),
    st.tuples(st.just("kind"), st.integers(0, 50), st.sampled_from(["cache_discovery", "other"])),
    st.tuples(st.just("withdraw"), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("arm"), st.integers(0, 50), st.sampled_from(CATEGORIES)),
    st.tuples(st.just("disarm"), st.integers(0, 50), st.just(None)),
    st.tuples(st.just("copy"), st.integers(0, 50), st.sampled_from(PLACES)),
    st.tuples(st.just("delete"), st.integers(0, 50), st.just(None)),
    st.tuples(st.just("merge"), st.just(0), st.just(None)),
)


def _apply(step: tuple) -> None:
    action, index, value = step
    incidents = list(Incident.objects.order_by("pk"))
    incident = incidents[index % len(incidents)]
    if action == "move":
        incident.location = Point(*value, srid=4326)
        incident.save()
    elif action == "month":
        Incident.objects.filter(pk=incident.pk).update(
            occurred_at=datetime(2024, value, 15, 12, tzinfo=UTC)
        )
    elif action == "kind":
        Incident.objects.filter(pk=incident.pk).update(kind=value)
    elif action == "withdraw":
        withdrawn_at = datetime(2026, 1, 1, tzinfo=UTC) if value else None
        Incident.objects.filter(pk=incident.pk).update(withdrawn_at=withdrawn_at)
    elif action == "arm":
        WeaponItem.objects.create(incident=incident, category=value, serial_number="P-1")
    elif action == "disarm":
        WeaponItem.objects.filter(incident=incident).delete()
    elif action == "copy":
        incident.pk = None
        incident.external_reference = f"copy-{uuid.uuid4().hex}"
        incident.location = Point(*value, srid=4326)
        incident.save()
    elif action == "delete" and len(incidents) > 3:
        incident.delete()
    elif action == "merge":
        map_changes_merge()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(write, min_size=1, max_size=6))
def test_any_sequence_of_writes_leaves_the_map_as_counted_from_the_incidents(world, steps):
    for step in steps:
        _apply(step)
    # The steps of every example pile up on one world: each check holds whatever came before.
    for persona in ("admin", "regional_analyst"):
        for grain, filters in FILTERS:
            kept_equals_counted(world.users[persona], 4, grain, **filters)
    kept_rows_are_counted_from_scratch()


def test_an_edit_that_changes_nothing_the_map_counts_logs_nothing(world):
    map_changes_merge()
    incident = world.records["alpha_verified_L3"]
    incident.narrative = "Seen again from the road."
    incident.save()
    Incident.objects.filter(pk=incident.pk).update(actors="A network")
    assert map_changes_pending() == 0
    Incident.objects.filter(pk=incident.pk).update(context="criminal")
    # What it counted taken away, what it counts now added.
    assert sorted(IncidentMapChange.objects.values_list("sign", flat=True)) == [-1, 1]


@pytest.mark.django_db(transaction=True)
def test_a_worker_merges_the_log(world, celery_worker_process):
    assert map_changes_pending() > 0  # the world's incidents, logged as they were written
    merge_map_changes.delay()
    wait_for(lambda: map_changes_pending() == 0, what="the worker to merge the map's log")
    kept_rows_are_counted_from_scratch()


@pytest.mark.django_db(transaction=True)
def test_two_merges_at_once_count_each_change_once(world):
    logged = map_changes_pending()
    assert logged > 0
    started = threading.Barrier(2)
    merged: list[int] = []

    def merge() -> None:
        try:
            started.wait()
            merged.append(map_changes_merge(batch=2))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=merge) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A merge that found the other one running leaves at once; what it left is merged by
    # the next one, and nothing is merged twice.
    map_changes_merge()
    assert map_changes_pending() == 0
    assert sum(merged) <= logged
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM geo_incidentmapchange")
        assert cursor.fetchone()[0] == 0
    kept_rows_are_counted_from_scratch()
