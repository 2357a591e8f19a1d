"""PostgreSQL connections for the Store: a psycopg pool, versioned schema, advisory locks.

Connections run in autocommit mode; writes open explicit transactions. Every connection asks
for `synchronous_commit = on`, so a COMMIT returns only once PostgreSQL has made the
transaction durable (and a 250 reply follows it). Schema files (schema/NNN_*.sql) are applied
at start under a session advisory lock, so nodes starting together never apply one twice.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool

from mailtrap_lite.store.interface import StorageError

# Advisory lock keys: (LOCK_SPACE, what). Taken by every node on the same database.
LOCK_SPACE = 0x6D746C  # "mtl"
SCHEMA_LOCK = 1  # applying migrations
MESSAGE_LOCK = 2  # handing out message ids, and every change of the message count
REAP_LOCK = 3  # ending the sessions of lost nodes
SESSION_PRUNE_LOCK = 4  # pruning sessions by count (--max-sessions)

# A web request or an SMTP commit waits this long for a connection before failing (503 or
# 451): while PostgreSQL is away, the SMTP loop must not stall for the pool's default 30 s.
ACQUIRE_TIMEOUT = 1.0
CONNECT_TIMEOUT = 3  # seconds for one connection attempt (libpq connect_timeout)
OPEN_TIMEOUT = 10.0  # at start: how long the first connections may take
# After this long without a successful reconnection the pool gives up its attempt; the next
# request starts a new one at a short delay, so recovery never waits out a long back-off.
RECONNECT_TIMEOUT = 5.0
POOL_MIN, POOL_MAX = 2, 16


def redacted(url: str) -> str:
    """Return the URL without its password (for logs and the start-up lines)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{parts.username}:***@{host}" if parts.username else f":***@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.autocommit = True


CONNECTION_SETTINGS: dict[str, object] = {
    "connect_timeout": CONNECT_TIMEOUT,
    "application_name": "mailtrap-lite",
    "options": "-c synchronous_commit=on -c client_encoding=UTF8",
}


def open_pool(url: str, read_only: bool = False) -> ConnectionPool:
    """Open a pool of connections to `url`, checked before each use; StorageError if down.

    `read_only`: every transaction of every connection is read-only (the server refuses
    writes), for reading a database that a server writes.
    """
    settings = dict(CONNECTION_SETTINGS)
    if read_only:
        settings["options"] = f"{settings['options']} -c default_transaction_read_only=on"
    try:
        # One connection first: a server that is not there fails now, saying why, instead
        # of after the pool's retries.
        psycopg.connect(url, **settings).close()  # type: ignore[arg-type]
    except psycopg.Error as error:
        raise StorageError(f"cannot use database {redacted(url)}: {error}") from error
    pool = ConnectionPool(
        url,
        min_size=POOL_MIN,
        max_size=POOL_MAX,
        open=False,
        configure=_configure,
        check=ConnectionPool.check_connection,  # a connection the server dropped is replaced
        timeout=ACQUIRE_TIMEOUT,
        reconnect_timeout=RECONNECT_TIMEOUT,
        name="mailtrap-lite",
        kwargs=settings,
    )
    try:
        pool.open(wait=True, timeout=OPEN_TIMEOUT)
    except psycopg.Error as error:
        pool.close()
        raise StorageError(f"cannot use database {redacted(url)}: {error}") from error
    return pool


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("mailtrap_lite.store.postgres.schema")
    found = []
    for entry in folder.iterdir():
        match = re.fullmatch(r"(\d+)_.*\.sql", entry.name)
        if match:
            found.append((int(match.group(1)), entry.read_text(encoding="utf-8")))
    return sorted(found)


def schema_version(conn: psycopg.Connection[Any]) -> int:
    """Return the version of the schema in this database (0: none yet)."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate(pool: ConnectionPool) -> None:
    """Apply the schema files newer than the database's version, each in one transaction.

    A session advisory lock keeps nodes that start together from applying a file twice: the
    second waits, then finds the version already current.
    """
    with pool.connection() as conn:
        _check_encoding(conn)
        conn.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_SPACE, SCHEMA_LOCK))
        try:
            current = schema_version(conn)
            for version, script in _migrations():
                if version <= current:
                    continue
                with conn.transaction():
                    conn.execute(script.encode())
                    conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_SPACE, SCHEMA_LOCK))


def _check_encoding(conn: psycopg.Connection[Any]) -> None:
    row = conn.execute("SHOW server_encoding").fetchone()
    if row is None or row[0] != "UTF8":
        raise StorageError(
            f"the database's encoding is {row[0] if row else '?'}; mailtrap-lite needs UTF8"
            " (CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0)"
        )


def check_tables(pool: ConnectionPool) -> None:
    """Read every row of every table of the store through (--check-db); StorageError if damaged.

    PostgreSQL has no integrity_check: a damaged page (a checksum failure where the cluster
    has data checksums, or a page the server cannot read) fails the read that reaches it, so
    each row is read whole, out-of-line values included. Indexes are not checked: that needs
    the amcheck extension, which only a superuser may create.
    """
    with pool.connection() as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY 1"
        ).fetchall()]  # fmt: skip
        try:
            for table in tables:
                conn.execute(f'SELECT count(*) FROM "{table}" t WHERE length(t::text) >= 0')
        except psycopg.Error as error:
            raise StorageError(f"the database is damaged: {error}") from error
