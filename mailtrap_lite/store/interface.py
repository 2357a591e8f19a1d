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
from mailtrap_lite.store.records import (
    MessageRecord,
    NewMessage,
    Problem,
    RawLine,
    ReleaseRecord,
    SessionRecord,
    StoredMessage,
)

SessionFacts = dict[str, str | None]


class StorageError(Exception):
    """The database cannot be opened or written (the message says why)."""


class QueryTimeout(StorageError):
    """A search ran past the store's time limit and was stopped (the message says how long)."""

    @classmethod
    def after(cls, seconds: float) -> QueryTimeout:
        """Return the error of a search stopped after `seconds` (--query-timeout)."""
        return cls(
            f"the search ran longer than {seconds:g} s and was stopped; narrow it (fewer"
            " terms, an inbox, after:) or raise --query-timeout"
        )


class Delivery(NamedTuple):
    """A message with what its session said and learnt since the last commit.

    `problems`: the session's problems so far, when they changed since the last commit.
    """

    new: NewMessage
    transcript: Sequence[RawLine] = ()
    facts: SessionFacts | None = None
    problems: Sequence[Problem] | None = None


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
    QueryError for a query too large for the database to run, and QueryTimeout (a
    StorageError) when one runs past the store's time limit (--query-timeout): list_messages,
    count_messages, delete_matching and export_messages are searches, and a search never
    holds the writer (a deletion by query searches first, then deletes by id in batches).
    A long session's transcript arrives in chunks (append_transcript) before end_session;
    get_session(id, transcript=False) reads a session without it.
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
        if change.kind in ("deleted", "pruned"):
            self.message_cache.forget(change.ids)

    @property
    def location(self) -> str:
        """Return where the data lives, for people: a file, ":memory:" or a URL (no password)."""
        return ":memory:" if self.temporary else str(self.path)

    def database_size(self) -> int:
        """Return how many bytes the database takes (a file store: the file and its WAL)."""
        total = 0
        for suffix in ("", "-wal"):
            try:
                total += Path(f"{self.path}{suffix}").stat().st_size
            except OSError:
                continue
        return total

    @abstractmethod
    def close(self) -> None:
        """Close every connection; a temporary database is removed."""

    def start_node(self, timeout: float) -> None:
        """Serve as one of the nodes sharing this database (nothing to do for a file).

        The others end this node's open sessions once `timeout` seconds pass without a sign
        of it.
        """
        del timeout  # one process owns a SQLite file: there are no other nodes

    def take_turn(self, task: str, now: float, every: float) -> bool:
        """Tell whether to run a periodic `task` now (pruning by age), once across the nodes.

        `now` is the caller's clock (seconds since the epoch). False when another node sharing
        this database ran it within `every` seconds before `now`; a Store no other node
        shares always answers True.
        """
        del task, now, every
        return True

    def check_file(self) -> None:
        """Raise StorageError when the database is no longer the one opened.

        A file database can be deleted or replaced under a running server; writing on would
        acknowledge mail that is gone at the next start. Stores without a file never fail.
        """
        return None

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

    def add_messages_unless_busy(self, batch: Sequence[Delivery]) -> list[int] | None:
        """Commit like add_messages, or return None at once if another writer would delay it.

        The SMTP loop calls this so that it serves other sessions instead of waiting while
        the indexer writes. A store whose writers do not wait for each other just commits.
        """
        return self.add_messages(batch)

    @abstractmethod
    def import_messages(
        self, batch: Sequence[NewMessage], keep_duplicates: bool = False
    ) -> list[int | None]:
        """Commit imported messages in one transaction; return their ids (None: skipped).

        Unless `keep_duplicates`, a message with the Message-ID and the exact bytes of one
        already stored (or earlier in the batch) is skipped. A message without a Message-ID
        is never a duplicate.
        """

    @abstractmethod
    def export_messages(
        self,
        query: Query | None = None,
        inbox: str | None = None,
        after: int = 0,
        limit: int = 200,
        max_bytes: int | None = None,
    ) -> list[StoredMessage]:
        """Return matching messages with their bytes, oldest first, ids past `after`.

        With `max_bytes`, stop before their sizes add up past it (the first always comes),
        so that an export pages through any number of messages in bounded memory.
        """

    @abstractmethod
    def get_message(self, message_id: int) -> MessageRecord | None:
        """Return one message's stored fields, or None."""

    @abstractmethod
    def raw(self, message_id: int) -> bytes | None:
        """Return the exact bytes received, or None."""

    def raw_start(self, message_id: int, size: int) -> bytes | None:
        """Return the first `size` bytes received (a page shows no more), or None."""
        raw = self.raw(message_id)
        return raw[:size] if raw is not None else None

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

    @abstractmethod
    def prune_older_than(self, cutoff: str) -> int:
        """Delete messages received before `cutoff` (RFC 3339 UTC), counted as pruned."""

    # -- tags and releases ------------------------------------------------------------------

    @abstractmethod
    def tags(self) -> list[tuple[str, int, int]]:
        """Return (name, messages, unread) for every tag in use, by name."""

    @abstractmethod
    def add_tags(self, ids: Sequence[int], names: Sequence[str]) -> int:
        """Add tags to messages; return how many messages gained one (TagError: bad name)."""

    @abstractmethod
    def set_tags(self, message_id: int, names: Sequence[str]) -> bool:
        """Replace a message's tags; return False if it does not exist."""

    @abstractmethod
    def rename_tag(self, old: str, new: str) -> bool:
        """Rename a tag on every message (merging into an existing one); False if unknown."""

    @abstractmethod
    def delete_tag(self, name: str) -> int | None:
        """Remove a tag from every message; return how many had it, None if unknown."""

    @abstractmethod
    def matching_ids(self, query: Query, ids: Sequence[int]) -> list[int]:
        """Return which of these messages match the query, in id order."""

    @abstractmethod
    def add_release(self, release: ReleaseRecord) -> None:
        """Record a release of a message to a real SMTP server."""

    @abstractmethod
    def releases(self, message_id: int) -> list[ReleaseRecord]:
        """Return the releases of a message, oldest first."""

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
        problems: Sequence[Problem] | None = None,
    ) -> None:
        """Close a session, storing the rest of its transcript, its facts and its problems.

        `problems` is what went wrong; None judges the stored transcript instead.
        """

    @abstractmethod
    def append_transcript(
        self,
        session_id: int,
        lines: Sequence[RawLine],
        facts: SessionFacts | None = None,
        problems: Sequence[Problem] | None = None,
    ) -> None:
        """Store more of an open session's transcript: a long session is written in chunks.

        The SMTP side calls this while the session runs, each time about FLUSH_LINES lines
        or FLUSH_BYTES bytes have gathered (smtp/transcript.py), then end_session with the
        rest. `lines` follow the chunks stored before, in order; `facts` are stored as by
        end_session; `problems` (None: unchanged) replace the session's problems so far. The
        transcript a store keeps is what the SMTP side kept: the caps (--max-transcript-lines,
        --max-transcript-bytes) are applied before lines reach the store.
        """

    @abstractmethod
    def end_orphaned_sessions(self) -> int:
        """Mark sessions left open by a server that died as ended by disconnect; count them.

        Their problems are judged again from their transcripts.
        """

    @abstractmethod
    def get_session(self, session_id: int, transcript: bool = True) -> SessionRecord | None:
        """Return one session, or None; its transcript too unless `transcript` is False.

        The transcript is every chunk stored so far (append_transcript, end_session) in
        order; a session list or an event never needs it, and a long one is costly to read.
        """

    @abstractmethod
    def list_sessions(
        self, inbox: str | None = None, limit: int = 50, before: int | None = None
    ) -> list[SessionRecord]:
        """Return sessions newest first, without transcripts."""
