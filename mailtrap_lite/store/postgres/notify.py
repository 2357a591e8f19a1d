"""Changes shared between the nodes of one database: LISTEN/NOTIFY into each node's feed.

Every node announces the changes it commits (new mail, deletions, reads, index progress,
sessions) with NOTIFY, from a thread of its own, so a commit never waits for it. Every node
LISTENs on one dedicated autocommit connection outside the pool: a LISTEN issued on a pooled
connection would stay active after the connection went back, and its next borrower would
receive the notifications. What arrives is published on the node's own change feed as a
remote change, so /api/v1/wait, the event stream, the UI's live list and the fixtures wake on
mail acknowledged by any node.

A notification can be missed (this node reconnecting, the other node killed between its
commit and its NOTIFY). So the listener also reads the message ids past the newest it has
seen, after every (re)connection and every POLL_SECONDS: a missed notification of new mail
delays a wake-up, it never loses one. Ids increase in commit order, which makes "past the
newest seen" exact.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from mailtrap_lite.store.feed import Change, ChangeFeed
from mailtrap_lite.store.postgres.connection import CONNECTION_SETTINGS

log = logging.getLogger(__name__)

CHANNEL = "mailtrap_lite_changes"
# PostgreSQL refuses payloads of 8000 bytes and more; ids are chunked well below that.
IDS_PER_NOTIFICATION = 400
POLL_SECONDS = 1.0  # how often the listener reads new message ids, notified or not
RECONNECT_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)  # waits between attempts, the last repeated
REMEMBERED = 50_000  # message ids already announced here (so none is announced twice)
CATCH_UP_ROWS = 5000  # message ids read per catch-up query


def payloads(node: int, changes: list[Change]) -> Iterator[str]:
    """Encode changes as NOTIFY payloads: like changes next to each other share one."""
    merged: list[tuple[str, str | None, list[int]]] = []
    for change in changes:
        if merged and merged[-1][:2] == (change.kind, change.inbox):
            merged[-1][2].extend(change.ids)
        else:
            merged.append((change.kind, change.inbox, list(change.ids)))
    for kind, inbox, ids in merged:
        for start in range(0, max(len(ids), 1), IDS_PER_NOTIFICATION):
            chunk = ids[start : start + IDS_PER_NOTIFICATION]
            yield json.dumps({"n": node, "k": kind, "i": chunk, "b": inbox})


def decode(payload: str) -> tuple[int, str, tuple[int, ...], str | None] | None:
    """Return (node, kind, ids, inbox) of a payload, or None if it is not one of ours."""
    try:
        data = json.loads(payload)
        ids = tuple(int(i) for i in data["i"])
        inbox = data["b"]
        node, kind = int(data["n"]), str(data["k"])
    except (ValueError, KeyError, TypeError):
        return None
    return node, kind, ids, inbox if isinstance(inbox, str) else None


class SharedFeed:
    """Sends this node's changes to the other nodes and publishes theirs on this node's feed."""

    def __init__(self, url: str, pool: ConnectionPool, feed: ChangeFeed, node: int) -> None:
        self.url = url
        self.pool = pool
        self.feed = feed
        self.node = node
        self.connected = threading.Event()  # the listener is LISTENing (tests wait on it)
        self._outbox: deque[Change] = deque()
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._announced: OrderedDict[int, None] = OrderedDict()
        self._announced_lock = threading.Lock()
        self._newest: int | None = None  # the newest message id read by a catch-up
        self._conn: psycopg.Connection[Any] | None = None
        self._unsubscribe = feed.subscribe(self._note)
        self._threads = [
            threading.Thread(target=self._send_loop, name="mailtrap-lite-notify", daemon=True),
            threading.Thread(target=self._listen_loop, name="mailtrap-lite-listen", daemon=True),
        ]

    def start(self) -> None:
        """Start sending and listening."""
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Send what is queued, stop listening and close the dedicated connection."""
        self._unsubscribe()
        self._stop.set()
        self._ready.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(10)

    # -- sending ----------------------------------------------------------------------------

    def _note(self, change: Change) -> None:
        """Queue a change this node committed (called on the committing thread)."""
        if change.remote:
            return
        if change.kind == "message":
            self._remember(change.ids)
        self._outbox.append(change)
        self._ready.set()

    def _send_loop(self) -> None:
        while True:
            self._ready.wait(1.0)
            self._ready.clear()
            changes = []
            while self._outbox:
                changes.append(self._outbox.popleft())
            if changes:
                self._send(changes)
            if self._stop.is_set() and not self._outbox:
                return

    def _send(self, changes: list[Change]) -> None:
        """NOTIFY the changes in one transaction; they are delivered when it commits."""
        try:
            with self.pool.connection() as conn, conn.transaction(), conn.pipeline():
                for payload in payloads(self.node, changes):
                    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
        except (psycopg.Error, PoolTimeout) as error:
            # The other nodes find the new mail by id all the same (their catch-up).
            log.warning("cannot announce %d changes to the other nodes: %s", len(changes), error)

    # -- listening --------------------------------------------------------------------------

    def _listen_loop(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            try:
                self._listen()
                attempt = 0
            except psycopg.Error as error:
                self.connected.clear()
                wait = RECONNECT_SECONDS[min(attempt, len(RECONNECT_SECONDS) - 1)]
                attempt += 1
                log.warning("listening for other nodes' changes: %s; again in %ss", error, wait)
                self._stop.wait(wait)
            finally:
                self._close()

    def _listen(self) -> None:
        """LISTEN on a connection of our own, catch up by id, then follow notifications."""
        conn = self._conn = psycopg.connect(self.url, autocommit=True, **CONNECTION_SETTINGS)  # type: ignore[arg-type]
        conn.execute(f"LISTEN {CHANNEL}")
        self.connected.set()
        self._catch_up(conn)
        while not self._stop.is_set():
            for notification in conn.notifies(timeout=POLL_SECONDS):
                self._receive(notification.payload)
                if self._stop.is_set():
                    return
            self._catch_up(conn)

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _receive(self, payload: str) -> None:
        decoded = decode(payload)
        if decoded is None:
            return
        node, kind, ids, inbox = decoded
        if node == self.node:
            return
        if kind == "message":
            ids = self._remember(ids)
            if not ids:
                return
        self.feed.publish(kind, ids, inbox, remote=True)

    def _catch_up(self, conn: psycopg.Connection[Any]) -> None:
        """Publish messages committed past the newest id seen that no notification announced.

        The first look only notes where the database stands: mail from before this node
        started is no news.
        """
        if self._newest is None:
            row = conn.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()
            self._newest = int(row[0]) if row else 0
            return
        while True:
            rows = conn.execute(
                "SELECT m.id, m.inbox, s.node_id FROM messages m"
                " LEFT JOIN sessions s ON s.id = m.session_id"
                " WHERE m.id > %s ORDER BY m.id LIMIT %s",
                (self._newest, CATCH_UP_ROWS),
            ).fetchall()
            if not rows:
                return
            self._newest = int(rows[-1][0])
            for message_id, inbox, node in rows:
                if node != self.node and self._remember((int(message_id),)):
                    self.feed.publish("message", (int(message_id),), inbox, remote=True)
            if len(rows) < CATCH_UP_ROWS:
                return

    def _remember(self, ids: tuple[int, ...]) -> tuple[int, ...]:
        """Note message ids as announced; return those that were not yet."""
        with self._announced_lock:
            new = tuple(i for i in ids if i not in self._announced)
            for message_id in new:
                self._announced[message_id] = None
            while len(self._announced) > REMEMBERED:
                self._announced.popitem(last=False)
        return new
