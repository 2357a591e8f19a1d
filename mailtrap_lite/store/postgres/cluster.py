"""One node among several on a database: its heartbeat, the shared feed, orphaned sessions.

A Store opened for a one-off job (migrate, export, a test's look at the data) is no node; a
serving App calls `start_node`, which registers the node (nodes.py), starts sharing changes
with the others (notify.py) and stamps the sessions it opens with its id.
"""

from __future__ import annotations

from mailtrap_lite.store.postgres.indexing import IndexStore
from mailtrap_lite.store.postgres.nodes import NodeBeat, end_orphaned
from mailtrap_lite.store.postgres.notify import SharedFeed
from mailtrap_lite.store.postgres.workqueue import claim

# A node whose timer fires a little early still gets its turn (timers of different nodes
# drift): a task runs at most about once per `every` across the nodes, never skips a round.
TURN_SLACK = 0.9


class NodeStore(IndexStore):
    """Sessions, indexing work and the feed of a node that shares its database with others."""

    # Class defaults: close() may run from a base class's __init__ (a store failing to open).
    _beat: NodeBeat | None = None
    _shared: SharedFeed | None = None

    def start_node(self, timeout: float) -> None:
        """Serve as a node: register, beat every timeout/3, share changes with the others.

        The other nodes end this node's open sessions once `timeout` seconds pass without a
        beat (this node killed, frozen or cut off).
        """
        if self._beat is not None:
            return
        beat = self._beat = NodeBeat(self._pool, timeout, self._announce_ended)
        self.node_id = beat.id
        self._shared = SharedFeed(self.url, self._pool, self.feed, beat.id)
        self._shared.start()
        beat.start()

    @property
    def shared_feed(self) -> SharedFeed | None:
        """Return the connection to the other nodes' changes (None: not serving as a node)."""
        return self._shared

    def take_turn(self, task: str, now: float, every: float) -> bool:
        """Tell whether to run `task` at `now`: no node ran it within `every` seconds before.

        Times are the callers' clocks (so a test's manual clock works as the real one); the
        row of the task is updated (or made) in one statement, so of nodes asking at the same
        moment exactly one gets the turn.
        """
        with self._transaction() as conn:
            row = conn.execute(
                "INSERT INTO cluster_tasks (name, last_run) VALUES (%s, to_timestamp(%s))"
                " ON CONFLICT (name) DO UPDATE SET last_run = excluded.last_run"
                " WHERE cluster_tasks.last_run"
                " <= excluded.last_run - make_interval(secs => %s)"
                " RETURNING name",
                (task, now, every * TURN_SLACK),
            ).fetchone()
        return row is not None

    def _announce_ended(self, session_ids: list[int]) -> None:
        self._judge_unjudged()
        self.feed.publish("session", tuple(session_ids))

    def unindexed(
        self, after: int = 0, limit: int = 50, max_bytes: int | None = None
    ) -> list[tuple[int, bytes]]:
        """Take (id, raw) of the oldest unindexed messages no other node is indexing.

        Nodes share the work (workqueue.py), so `after` is not used: a message another node
        took and never finished comes back here once its claim runs out. With `max_bytes`,
        stop before their sizes add up past it (the first always comes).
        """
        with self._read() as conn:
            return claim(conn, limit, max_bytes)

    def end_orphaned_sessions(self) -> int:
        """End the sessions of nodes that are gone (`node-lost`); count them.

        Sessions of live nodes stay open. Sessions that name no node (left open by a server
        of the previous release) are ended by `disconnect`, as a single server did when it
        started. Their problems are judged again from their transcripts.
        """
        with self._transaction() as conn:
            ended = end_orphaned(conn, unknown_too=True)
        self._judge_unjudged()
        if ended:
            self.feed.publish("session", tuple(ended))
        return len(ended)

    def close(self) -> None:
        """Leave the cluster (stop sharing, remove this node), then close every connection."""
        shared, self._shared = self._shared, None
        beat, self._beat = self._beat, None
        if shared is not None:
            shared.stop()
        if beat is not None:
            beat.stop()
        super().close()
