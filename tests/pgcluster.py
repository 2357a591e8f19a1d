"""A throwaway PostgreSQL 15 cluster for tests and benchmarks, never the system's own.

`initdb` runs in a `mktemp -d` directory owned by the `postgres` user (through `runuser`,
when we are root) or by whoever runs the tests otherwise; the server listens on 127.0.0.1 on
a free port and on a Unix socket in that directory, and everything is removed by `remove()`.
Debian installs the binaries off PATH, in /usr/lib/postgresql/15/bin. The package's own
cluster (port 5432) is never used or changed.

Speed over durability, for tests only: fsync and full-page writes are off (a crash of the
machine may lose this cluster, which is thrown away anyway). The Store still asks for
`synchronous_commit = on` on its connections, so a commit returns only once PostgreSQL has
written it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

BIN = Path(os.environ.get("MAILTRAP_LITE_PG_BIN", "/usr/lib/postgresql/15/bin"))
USER = "postgres"
SERVER_SETTINGS = ("-c fsync=off -c full_page_writes=off -c max_connections=200"
                   " -c shared_buffers=32MB")  # fmt: skip
TEMPLATE = "mailtrap_lite_template"
PREFIX = "mailtrap-lite-pg-"  # then the pid of the process that made the cluster


class ClusterUnavailable(RuntimeError):
    """PostgreSQL cannot be started here (missing binaries, or no way to run them)."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Cluster:
    """One initdb'd data directory and its server; databases are created per test."""

    def __init__(self, *, durable: bool = False) -> None:
        if not (BIN / "initdb").exists():
            raise ClusterUnavailable(f"no PostgreSQL in {BIN} (apt-get install postgresql)")
        self.as_postgres = os.geteuid() == 0
        remove_abandoned()
        self.dir = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.settings = "" if durable else SERVER_SETTINGS
        self._names = 0
        self._lock = threading.Lock()
        if self.as_postgres:
            shutil.chown(self.dir, USER, USER)
        self._run("initdb", "-D", str(self.data), "-U", USER, "-A", "trust", "-E", "UTF8",
                  "--no-locale", "--no-sync", "--no-instructions")  # fmt: skip

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def url(self, database: str = "postgres") -> str:
        """Return the URL of a database of this cluster."""
        return f"postgresql://{USER}@{self.host}:{self.port}/{database}"

    def start(self) -> Cluster:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.dir} -c listen_addresses={self.host} {self.settings}"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w",
                  "-t", "60", "-o", options, "start")  # fmt: skip
        return self

    def stop(self) -> None:
        """Stop the server at once (fast shutdown: open sessions are ended)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def remove(self) -> None:
        """Stop the server if it runs and delete the directory."""
        try:
            if self.running():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def sql(self, statement: str, database: str = "postgres") -> None:
        """Run one statement in autocommit mode."""
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[arg-type]

    def new_database(self, template: str = TEMPLATE) -> str:
        """Create a fresh database (a copy of `template`) and return its URL."""
        with self._lock:
            self._names += 1
            name = f"t{os.getpid()}_{self._names}"
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by new_database, ending its sessions."""
        name = url.rpartition("/")[2]
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _run(self, program: str, *args: str) -> None:
        command = [str(BIN / program), *args]
        if self.as_postgres:
            command = ["runuser", "-u", USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        if done.returncode != 0:
            log = self.dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ClusterUnavailable(
                f"{program} failed ({done.returncode}): {done.stderr.strip()} {tail}".strip()
            )


def remove_abandoned() -> None:
    """Stop and remove clusters whose process is gone (a test worker killed mid-run)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*-*"):
        pid = folder.name.removeprefix(PREFIX).partition("-")[0]
        if not pid.isdigit() or Path(f"/proc/{pid}").exists():
            continue
        command = [str(BIN / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "stop"]
        if os.geteuid() == 0:
            command = ["runuser", "-u", USER, "--", *command]
        subprocess.run(command, capture_output=True, check=False, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


def start_cluster(*, durable: bool = False) -> Cluster:
    """Create and start a cluster with an empty template database for the Store.

    `durable` keeps PostgreSQL's defaults (fsync on), for benchmarks.
    """
    cluster = Cluster(durable=durable)
    try:
        cluster.start()
        cluster.sql(f'CREATE DATABASE "{TEMPLATE}" TEMPLATE template0')
    except BaseException:
        cluster.remove()
        raise
    return cluster


_shared: list[Cluster] = []


def shared_cluster() -> Cluster:
    """Return this process's cluster (one per test session, or xdist worker), started once.

    It is removed when the process exits; its databases are copies of TEMPLATE, which holds
    the Store's schema, so a Store opening one finds nothing to migrate.
    """
    if not _shared:
        cluster = start_cluster()
        atexit.register(cluster.remove)
        _shared.append(cluster)
        from mailtrap_lite.store.postgres import PostgresStore

        PostgresStore(cluster.url(TEMPLATE), files=cluster.dir).close()
    return _shared[0]
