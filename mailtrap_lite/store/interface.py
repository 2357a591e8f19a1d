"""The Store interface: how messages, sessions and transcripts are written and read.

Every surface (SMTP, the web app, the fixtures) goes through these methods; SQL lives only in
the implementations (store/sqlite, store/postgres). A Store publishes a change feed that
others follow, so storage never depends on who reads it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from mailtrap_lite.message import Message, MessageCache
from mailtrap_lite.store.feed import Change, ChangeFeed
from mailtrap_lite.store.query import Query
from mailtrap_lite.store.records import MessageRecord, NewMessage, RawLine, SessionRecord

SessionFacts = dict[str, str | None]


class StorageError(Exception):
    """The database cannot be opened or written (the message says why)."""


class Delivery(NamedTuple):
    """A message with what its session said and learnt since the last commit."""

    new: NewMessage
    transcript: Sequence[RawLine] = ()
    facts: SessionFacts | None = None


@dataclass
class Page:
    """One page of a message list: the total number of matches and this page, newest first."""

    total: int
    messages: list[MessageRecord]


@dataclass
class IndexUpdate:
    """What the indexer learned from a message's MIME body.

    `text` and `filenames` are folded already (store.folding.fold), as search compares them.
    """

    id: int
    snippet: str
    attachment_count: int
    text: str
    headers: list[tuple[str, str]] = field(default_factory=list)  # decoded (RFC 2047)
    filenames: list[str] = field(default_factory=list)  # of every attachment that has one


class Store(ABC):
    """Messages, sessions and transcripts, with retention and a change feed.

    Message ids increase in commit order and are never reused. Writes raise StorageError
    when the database cannot take them; then nothing is half-stored. Searches raise
    QueryError for a query too large for the database to run.
    """

    path: Path
    temporary: bool  # a temporary database, removed by close()
    max_messages: int
    max_sessions: int
    last_message_at: float  # time.monotonic() of the newest commit of a message
    # True when a commit waits on a database server (PostgreSQL), not a local file: group
    # commit then runs commits on a thread of its own, so the SMTP loop goes on meanwhile.
    commits_wait_on_server: bool = False

    def __init__(self) -> None:
        self.feed = ChangeFeed()
        self.message_cache = MessageCache()
        self.feed.subscribe(self._forget_deleted)

    def _forget_deleted(self, change: Change) -> None:
        if change.kind == "deleted":
            self.message_cache.forget(change.ids)

    @property
    def location(self) -> str:
        """Return where the data lives, for people: a file, ":memory:" or a URL (no password)."""
        return ":memory:" if self.temporary else str(self.path)

    @abstractmethod
    def close(self) -> None:
        """Close every connection; a temporary database is removed."""

    def start_node(self, timeout: float) -> None:
        """Serve as one of the nodes sharing this database (nothing to do for a file).

        The others end this node's open sessions once `timeout` seconds pass without a sign
        of it.
        """
        del timeout  # one process owns a SQLite file: there are no other nodes

    # -- messages ---------------------------------------------------------------------------

    def add_message(
        self,
        new: NewMessage,
        transcript: Sequence[RawLine] = (),
        facts: SessionFacts | None = None,
    ) -> int:
        """Commit a message (and its session's transcript and facts so far); return its id."""
        return self.add_messages([Delivery(new, transcript, facts)])[0]

    @abstractmethod
    def add_messages(self, batch: Sequence[Delivery]) -> list[int]:
        """Commit messages in one transaction (a group commit); return their ids in order."""

    @abstractmethod
    def get_message(self, message_id: int) -> MessageRecord | None:
        """Return one message's stored fields, or None."""

    @abstractmethod
    def raw(self, message_id: int) -> bytes | None:
        """Return the exact bytes received, or None."""

    def read_message(self, message_id: int) -> Message | None:
        """Return the message read from its bytes (parsed once, then cached), or None."""
        return self.message_cache.get(message_id, self.raw)

    @abstractmethod
    def list_messages(
        self,
        inbox: str | None = None,
        limit: int = 50,
        before: int | None = None,
        after: int | None = None,
        query: Query | None = None,
    ) -> Page:
        """Return messages newest first with the total count of matches (before aside)."""

    @abstractmethod
    def count_messages(
        self, query: Query | None = None, inbox: str | None = None, after: int | None = None
    ) -> int:
        """Return how many messages match (newer than `after`)."""

    @abstractmethod
    def delete_matching(self, query: Query | None = None, inbox: str | None = None) -> int:
        """Delete the messages that match a query (in an inbox); return how many."""

    @abstractmethod
    def set_read(self, message_id: int, read: bool) -> bool:
        """Mark a message read or unread; return False if it does not exist."""

    @abstractmethod
    def delete_messages(self, ids: list[int]) -> int:
        """Delete these messages; return how many existed."""

    @abstractmethod
    def clear(self, inbox: str | None = None) -> int:
        """Delete every message (of one inbox); return how many."""

    @abstractmethod
    def inboxes(self) -> list[tuple[str, int, int]]:
        """Return (name, total, unread) for each inbox that holds messages or sessions."""

    @abstractmethod
    def stats(self) -> dict[str, int]:
        """Return counts for health reports: messages, pruned, sessions, index lag."""

    # -- indexing (after the commit) --------------------------------------------------------

    @abstractmethod
    def unindexed(
        self, after: int = 0, limit: int = 50, max_bytes: int | None = None
    ) -> list[tuple[int, bytes]]:
        """Return (id, raw) of the oldest messages past id `after` not yet indexed."""

    @abstractmethod
    def save_index(
        self, updates: list[IndexUpdate], pause: Callable[[float], None] | None = None
    ) -> None:
        """Store what the indexer learned and announce that these messages are searchable."""

    @abstractmethod
    def purge_search(self, batch: int = 20) -> int:
        """Remove search rows of deleted messages, a small batch at a time; return count."""

    @abstractmethod
    def oldest_unindexed(self) -> str | None:
        """Return when the oldest message still waiting for the indexer arrived, or None."""

    # -- sessions ---------------------------------------------------------------------------

    @abstractmethod
    def open_session(self, peer: str, started_at: str, kind: str = "smtp") -> int:
        """Record a new session (SMTP, or one of SESSION_KINDS) and return its id."""

    @abstractmethod
    def end_session(
        self,
        session_id: int,
        reason: str,
        ended_at: str,
        tail: Sequence[RawLine] = (),
        facts: SessionFacts | None = None,
    ) -> None:
        """Close a session, storing the rest of its transcript and what was learnt."""

    @abstractmethod
    def end_orphaned_sessions(self) -> int:
        """Mark sessions left open by a server that died as ended by disconnect; count them."""

    @abstractmethod
    def get_session(self, session_id: int) -> SessionRecord | None:
        """Return one session with its transcript, or None."""

    @abstractmethod
    def list_sessions(
        self, inbox: str | None = None, limit: int = 50, before: int | None = None
    ) -> list[SessionRecord]:
        """Return sessions newest first, without transcripts."""
