"""A real streaming replica on this machine: map reads and analyses go to it, writes stay on
the primary, and the reader is told how far behind it is (armsmonitor/replica.py,
docs/operators/replica.md).

The module starts a private primary and a hot standby of it (tests/replica_pair.py: the
shared server refuses replication), migrates the primary, and runs one process of the
platform against both (tests/replica_app.py), as a web worker would run. Each server logs
every statement, which tells which one ran a read. The tests run in order, on one set-up:
reads, a write, replay paused, the replica stopped. Every wait polls up to
WAIT_SECONDS: the machine is shared and slow, and a wait is a ceiling, never a deadline.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.replica_pair import ReplicaPair

PROJECT_DIR = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 300
SEEDED_INCIDENTS = 200
# What a read of the map's data reads: the kept counts (or the incidents themselves).
MAP_TABLES = ('FROM "geo_incidentmapcell"', 'FROM "incidents_incident"')


class Platform:
    """The platform's process (tests/replica_app.py) and the two servers it reads."""

    def __init__(self, pair: ReplicaPair, process: subprocess.Popen, errors: Path):
        self.pair = pair
        self.process = process
        self.errors = errors

    def ask(self, do: str, **arguments) -> dict:
        self.process.stdin.write(json.dumps({"do": do, **arguments}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            pytest.fail(f"The platform's process ended: {self.errors.read_text()[-3000:]}")
        answer = json.loads(line)
        assert "error" not in answer, answer["error"]
        return answer

    def map(self) -> dict:
        answer = self.ask("map")
        assert answer["status"] == 200, answer
        return answer["body"]

    def log_marks(self) -> dict[str, int]:
        return {server: self.pair.log_file(server).stat().st_size for server in self.pair.ports}

    def logged_since(self, marks: dict[str, int], server: str) -> str:
        with open(self.pair.log_file(server), errors="replace") as log:
            log.seek(marks[server])
            return log.read()

    def wait_for(self, condition, what: str):
        """Poll `condition` (returns a truthy value when met) up to WAIT_SECONDS."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail(f"Waited {WAIT_SECONDS} s for {what}.")
            time.sleep(0.5)


def _environment(pair: ReplicaPair) -> dict[str, str]:
    environment = {
        **os.environ,
        "DEBUG": "true",
        "ARMSMONITOR_ENV_FILE": os.devnull,
        # The test client's host.
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": pair.url("primary"),
        "DATABASE_REPLICA_URL": pair.url("replica"),
        # One superuser role in the private cluster: no owner apart, no role to grant.
        "DATABASE_APP_ROLE": "",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": f"armsmonitor-replica-test-{os.getpid()}",
        "PYTHONUNBUFFERED": "1",
    }
    environment.pop("DATABASE_OWNER_URL", None)
    return environment


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    pair = ReplicaPair.create()
    process = None
    try:
        environment = _environment(pair)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"],
            cwd=PROJECT_DIR,
            env=environment,
            check=True,
            timeout=3600,
        )
        errors = tmp_path_factory.mktemp("replica-app") / "stderr.txt"
        with open(errors, "w") as stderr:
            process = subprocess.Popen(
                [sys.executable, "tests/replica_app.py"],
                cwd=PROJECT_DIR,
                env=environment,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        running = Platform(pair, process, errors)
        running.ask("seed", incidents=SEEDED_INCIDENTS)
        pair.wait_for_replay(timeout=WAIT_SECONDS)
        yield running
    finally:
        if process is not None:
            process.stdin.close()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        pair.remove()


def test_map_reads_come_from_the_replica_and_say_how_far_behind(platform):
    marks = platform.log_marks()
    body = platform.map()
    assert body["total"] >= SEEDED_INCIDENTS
    source = body["source"]
    assert source["database"] == "replica"
    assert isinstance(source["lag_seconds"], float) and source["lag_seconds"] >= 0
    assert isinstance(source["lag_bytes"], int) and source["lag_bytes"] >= 0
    assert source["note"].startswith("Read from a replica, ")
    # The replica ran the read; the primary was only asked its WAL position (and the
    # session and user, which are not records).
    on_replica = platform.logged_since(marks, "replica")
    on_primary = platform.logged_since(marks, "primary")
    assert any(table in on_replica for table in MAP_TABLES), on_replica[-2000:]
    assert not any(table in on_primary for table in MAP_TABLES), on_primary[-2000:]
    assert "pg_current_wal_lsn()" in on_primary
    # Filters through other tables (a mission, weapons' categories, free text) read there too.
    marks = platform.log_marks()
    filtered = platform.ask(
        "map", query={"mission": "MINUSCA", "category": ["assault_rifle"], "q": "a"}
    )
    assert filtered["status"] == 200, filtered
    assert filtered["body"]["source"]["database"] == "replica"
    on_replica = platform.logged_since(marks, "replica")
    assert 'FROM "incidents_incident"' in on_replica
    assert not any(table in platform.logged_since(marks, "primary") for table in MAP_TABLES)
    # In the reader's language.
    french = platform.ask("map", language="fr")["body"]["source"]["note"]
    assert french.startswith("Lu sur une réplique, en retard de ")


def test_a_write_goes_to_the_primary_and_reaches_the_replica(platform):
    before = platform.map()["total"]
    marks = platform.log_marks()
    written = platform.ask("write")["id"]
    assert 'INSERT INTO "incidents_incident"' in platform.logged_since(marks, "primary")
    assert "INSERT" not in platform.logged_since(marks, "replica")
    assert (
        platform.pair.psql(
            "primary", f"SELECT count(*) FROM incidents_incident WHERE id = {written}"
        )
        == "1"
    )
    platform.wait_for(lambda: platform.map()["total"] == before + 1, "the write on the replica")
    assert (
        platform.pair.psql(
            "replica", f"SELECT count(*) FROM incidents_incident WHERE id = {written}"
        )
        == "1"
    )


def test_an_analysis_reads_the_replica_once_it_holds_the_writes_before_it(platform):
    platform.ask("write")
    marks = platform.log_marks()
    answer = platform.ask("analysis", filter={"kind": ["checkpoint_seizure"]})
    assert answer["state"] == "done", answer
    read = answer["result"]["read_database"]
    assert read["database"] == "replica"
    assert read["lag_bytes"] >= 0 and read["lag_seconds"] >= 0
    assert 'FROM "incidents_incident"' in platform.logged_since(marks, "replica")
    # The run's own row and its result are written on the primary.
    assert 'UPDATE "geo_analysisrun"' in platform.logged_since(marks, "primary")
    # Kinds that COPY the points out (hot spots) or store rows of their own (clusters).
    for kind, parameters in (
        ("hotspots", {}),
        ("clusters", {"distance_m": 20000, "min_incidents": 3}),
    ):
        marks = platform.log_marks()
        answer = platform.ask("analysis", kind=kind, parameters=parameters)
        assert answer["state"] == "done", answer
        assert answer["result"]["read_database"]["database"] == "replica"
        assert "COPY" in platform.logged_since(marks, "replica")


def test_the_lag_grows_while_replay_is_paused_and_the_map_still_answers(platform):
    platform.wait_for(lambda: platform.map()["source"]["lag_bytes"] == 0, "the replica to catch up")
    shown = platform.map()["total"]
    platform.pair.psql("replica", "SELECT pg_wal_replay_pause()")
    try:
        platform.ask("write")
        first = platform.wait_for(
            lambda: (body := platform.map())["source"]["lag_bytes"] > 0 and body,
            "a lag in bytes",
        )
        time.sleep(2)
        second = platform.map()
        # Stale, and told so: the new record is not shown, the lag is.
        assert first["total"] == second["total"] == shown
        assert second["source"]["paused"] is True
        assert second["source"]["lag_seconds"] > first["source"]["lag_seconds"] > 0
        assert "paused" in second["source"]["note"]
        health = platform.ask("health")["body"]["replica"]
        assert health["ok"] is True and health["replay_paused"] is True
        assert health["lag_bytes"] > 0
        # An analysis never reads older records than its request saw: the primary.
        answer = platform.ask("analysis")
        assert answer["state"] == "done", answer
        assert answer["result"]["read_database"]["database"] == "primary"
        assert "replayed" in answer["result"]["read_database"]["fallback"]
    finally:
        platform.pair.psql("replica", "SELECT pg_wal_replay_resume()")
    platform.wait_for(lambda: platform.map()["total"] == shown + 1, "the replay to resume")


def test_health_reports_the_replica_and_its_lag(platform):
    body = platform.ask("health")["body"]
    replica = body["replica"]
    assert replica["ok"] is True and replica["readers_use"] == "replica"
    assert replica["replay_paused"] is False
    assert isinstance(replica["lag_seconds"], float) and isinstance(replica["lag_bytes"], int)
    assert body["database"]["ok"] is True


def test_with_the_replica_stopped_the_map_reads_the_primary_and_says_so(platform):
    shown = platform.map()["total"]
    platform.pair.stop("replica")
    platform.ask("write")
    marks = platform.log_marks()
    body = platform.map()
    # Fresh records from the primary, and the reader told where they came from.
    assert body["total"] == shown + 1
    assert body["source"]["database"] == "primary"
    assert "replica did not answer" in body["source"]["note"]
    assert any(table in platform.logged_since(marks, "primary") for table in MAP_TABLES)
    health = platform.ask("health")["body"]
    assert health["replica"]["ok"] is False and health["replica"]["readers_use"] == "primary"
    assert health["database"]["ok"] is True
    answer = platform.ask("analysis")
    assert answer["state"] == "done", answer
    assert answer["result"]["read_database"]["database"] == "primary"
    # Back again: the map reads the replica again, without a restart of the platform.
    platform.pair.start("replica")
    platform.wait_for(
        lambda: platform.map()["source"]["database"] == "replica", "the replica to be read again"
    )
