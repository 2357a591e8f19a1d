"""The nodes serving one database: each registers, beats, and closes the sessions of the lost.

A node inserts a row in `nodes` when it starts serving and moves its `expires_at` on every
beat (a third of its timeout); it deletes the row when it stops. A node that stops beating
(killed, frozen, cut off from the database) is lost once its row expires: on their next beat
the other nodes (one of them, under an advisory lock) end the sessions it had open with the
reason `node-lost` and remove its row. Times are the database's, so clocks of the nodes'
machines never matter.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from mailtrap_lite.mime.headers import rfc3339
from mailtrap_lite.store.postgres.connection import LOCK_SPACE, REAP_LOCK

log = logging.getLogger(__name__)

LOST = "node-lost"  # the end reason of a session whose node was lost
MIN_BEAT = 0.2  # seconds between beats at the least

# Open sessions served by no live node: their node's row expired or is gone.
ORPHANED = (
    "end_reason IS NULL AND NOT EXISTS (SELECT 1 FROM nodes n"
    " WHERE n.id = sessions.node_id AND n.expires_at >= now())"
)


def node_name() -> str:
    """Return this process's name for people: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def end_orphaned(conn: psycopg.Connection[Any], *, unknown_too: bool) -> list[int]:
    """End the open sessions of lost nodes (`node-lost`); return their ids.

    Their problems are cleared, to be judged again from their transcripts. `unknown_too`
    also ends the sessions that name no node (a server of the previous release, or a Store
    that was no node, left them open) as a single server always did at start: ended by
    `disconnect`.
    """
    rows = conn.execute(
        f"UPDATE sessions SET end_reason = %s, ended_at = %s, problems = NULL"
        f" WHERE {ORPHANED} AND node_id IS NOT NULL RETURNING id",
        (LOST, rfc3339(dt.datetime.now(dt.UTC))),
    ).fetchall()
    if unknown_too:
        rows += conn.execute(
            "UPDATE sessions SET end_reason = 'disconnect', problems = NULL"
            " WHERE end_reason IS NULL AND node_id IS NULL RETURNING id"
        ).fetchall()
    return [int(row[0]) for row in rows]


class NodeBeat:
    """This node's row in `nodes`, kept alive by a thread that also reaps lost nodes."""

    def __init__(
        self, pool: ConnectionPool, timeout: float, on_ended: Callable[[list[int]], None]
    ) -> None:
        self.pool = pool
        self.timeout = timeout
        self.on_ended = on_ended  # told the sessions of lost nodes that were ended
        self.name = node_name()
        self._stop = threading.Event()
        with pool.connection() as conn:
            row = conn.execute(
                "INSERT INTO nodes (name, expires_at)"
                " VALUES (%s, now() + make_interval(secs => %s)) RETURNING id",
                (self.name, timeout),
            ).fetchone()
        assert row is not None
        self.id = int(row[0])
        self._thread = threading.Thread(target=self._run, name="mailtrap-lite-node", daemon=True)

    def start(self) -> None:
        """Start beating."""
        self._thread.start()

    def stop(self) -> None:
        """Stop beating and remove this node's row (its sessions have ended by now)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        try:
            with self.pool.connection() as conn:
                conn.execute("DELETE FROM nodes WHERE id = %s", (self.id,))
        except (psycopg.Error, PoolTimeout) as error:
            log.warning("cannot remove node %s: %s; it expires by itself", self.id, error)

    def beat(self) -> list[int]:
        """Move this node's expiry on, then end the sessions of lost nodes; return those."""
        with self.pool.connection() as conn:
            cur = conn.execute(
                "UPDATE nodes SET seen_at = now(), expires_at = now() + make_interval(secs => %s)"
                " WHERE id = %s",
                (self.timeout, self.id),
            )
            if cur.rowcount == 0:  # declared lost (paused past the timeout): serve on
                log.warning("node %s was taken for lost; registering it again", self.id)
                conn.execute(
                    "INSERT INTO nodes (id, name, expires_at) OVERRIDING SYSTEM VALUE"
                    " VALUES (%s, %s, now() + make_interval(secs => %s))",
                    (self.id, self.name, self.timeout),
                )
            with conn.transaction():
                row = conn.execute(
                    "SELECT pg_try_advisory_xact_lock(%s, %s)", (LOCK_SPACE, REAP_LOCK)
                ).fetchone()
                if not (row and row[0]):
                    return []  # another node is reaping right now
                ended = end_orphaned(conn, unknown_too=False)
                conn.execute("DELETE FROM nodes WHERE expires_at < now()")
        return ended

    def _run(self) -> None:
        interval = max(self.timeout / 3, MIN_BEAT)
        while not self._stop.wait(interval):
            try:
                ended = self.beat()
            except (psycopg.Error, PoolTimeout) as error:
                log.warning("node heartbeat failed: %s; will retry", error)
                continue
            if ended:
                log.warning("ended %d sessions of a lost node", len(ended))
                self.on_ended(ended)
