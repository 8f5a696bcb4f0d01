"""A private PostgreSQL primary and its streaming replica on this machine, for the
read-replica test and benchmark (tests/test_read_replica.py, bench/replica_benchmark.py).

The machine's shared server refuses replication connections, and its configuration is not
ours to change: both clusters are made here, in a temporary folder, on free ports of
127.0.0.1 with their sockets in that folder, and removed at the end. `initdb` refuses to
run as root, so the server programs run as the `postgres` user when this runs as root.

    pair = ReplicaPair.create()      # primary: initdb, wal_level=replica, replication trust
    try:                             # replica: pg_basebackup -R, hot_standby=on
        pair.url("primary"), pair.url("replica")
    finally:
        pair.remove()
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DATABASE = "armsmonitor"
# Long safety limits: the machine is shared and slow; each is a ceiling, never a wait.
START_TIMEOUT_SECONDS = 300


def postgres_bin() -> Path:
    """The newest PostgreSQL installed (Debian's layout), that of the PostGIS package."""
    versions = sorted(
        (path for path in Path("/usr/lib/postgresql").glob("*/bin/initdb")),
        key=lambda path: int(path.parent.parent.name),
    )
    if not versions:
        raise RuntimeError("No PostgreSQL server programs under /usr/lib/postgresql.")
    return versions[-1].parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Both servers log every statement to their log file: the test reads which one ran a read.
SERVER_SETTINGS = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sockets}'
wal_level = replica
max_wal_senders = 5
hot_standby = on
# Long analyses on the replica are not cancelled by the vacuum of rows they still read.
hot_standby_feedback = on
fsync = off
full_page_writes = on
shared_buffers = 128MB
max_connections = 60
log_statement = '{log_statement}'
log_min_messages = warning
log_line_prefix = '%m [%p] '
"""


@dataclass
class ReplicaPair:
    root: Path
    ports: dict[str, int]
    log_statement: str = "all"

    @classmethod
    def create(cls, *, log_statement: str = "all") -> ReplicaPair:
        """Start a primary with an empty `armsmonitor` database (PostGIS in it) and a hot
        standby of it; both removed by `remove()`, which the caller must reach."""
        root = Path(tempfile.mkdtemp(prefix="armsmonitor-replica-"))
        pair = cls(root, {"primary": free_port(), "replica": free_port()}, log_statement)
        try:
            pair._start()
        except BaseException:
            pair.remove()
            raise
        return pair

    # --- running the server programs as their owner -------------------------------------

    def _as_owner(self, *command: str | Path, check: bool = True) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run(
            [*prefix, *map(str, command)],
            check=check,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_SECONDS,
            cwd=self.root,
        )

    def directory(self, server: str) -> Path:
        return self.root / server

    def log_file(self, server: str) -> Path:
        return self.root / f"{server}.log"

    def _start(self) -> None:
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        os.chmod(self.root, 0o700)
        (self.root / "sockets").mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root / "sockets", "postgres", "postgres")
        binaries = postgres_bin()
        primary = self.directory("primary")
        self._as_owner(
            binaries / "initdb", "-D", primary, "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )
        self._configure("primary")
        with open(primary / "pg_hba.conf", "a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 trust\n")
        self.start("primary")
        self.psql("primary", f"CREATE DATABASE {DATABASE}", database="postgres")
        self.psql("primary", "CREATE EXTENSION IF NOT EXISTS postgis")
        # The replica: a base backup of the primary that writes its own standby settings (-R:
        # primary_conninfo, standby.signal), then its own port.
        self._as_owner(
            binaries / "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            self.ports["primary"],
            "-U",
            "postgres",
            "-D",
            self.directory("replica"),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        )
        self._configure("replica")
        self.start("replica")
        self.wait_until_replaying()

    def _configure(self, server: str) -> None:
        settings = SERVER_SETTINGS.format(
            port=self.ports[server],
            sockets=self.root / "sockets",
            log_statement=self.log_statement,
        )
        # Appended: the later line wins, also over what the base backup copied.
        with open(self.directory(server) / "postgresql.conf", "a") as conf:
            conf.write(settings)

    # --- servers -------------------------------------------------------------------------

    def start(self, server: str) -> None:
        self._as_owner(
            postgres_bin() / "pg_ctl",
            "-D",
            self.directory(server),
            "-l",
            self.log_file(server),
            "-w",
            "-t",
            str(START_TIMEOUT_SECONDS),
            "start",
        )

    def stop(self, server: str, *, mode: str = "fast") -> None:
        self._as_owner(
            postgres_bin() / "pg_ctl",
            "-D",
            self.directory(server),
            "-m",
            mode,
            "-w",
            "-t",
            str(START_TIMEOUT_SECONDS),
            "stop",
            check=False,
        )

    def remove(self) -> None:
        """Stop both servers (whatever state they are in) and remove everything."""
        for server in ("replica", "primary"):
            if (self.directory(server) / "postmaster.pid").exists():
                self.stop(server, mode="immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, server: str, *, database: str = DATABASE) -> str:
        return f"postgres://postgres@127.0.0.1:{self.ports[server]}/{database}"

    def psql(self, server: str, statement: str, *, database: str = DATABASE) -> str:
        """Run one statement as the superuser; its rows as unaligned text."""
        result = subprocess.run(
            [
                str(postgres_bin() / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.ports[server]),
                "-U",
                "postgres",
                "-d",
                database,
                "-c",
                statement,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_SECONDS,
        )
        return result.stdout.strip()

    def wait_until_replaying(self, *, timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Until the replica streams from the primary (the primary sees its WAL sender)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.psql("primary", "SELECT count(*) FROM pg_stat_replication") != "0":
                return
            time.sleep(0.5)
        raise TimeoutError("The replica did not start streaming from the primary.")

    def wait_for_replay(self, *, timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        position = self.psql("primary", "SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            replayed = self.psql(
                "replica", f"SELECT pg_last_wal_replay_lsn() >= '{position}'::pg_lsn"
            )
            if replayed == "t":
                return
            time.sleep(0.2)
        raise TimeoutError(f"The replica did not replay up to {position}.")
