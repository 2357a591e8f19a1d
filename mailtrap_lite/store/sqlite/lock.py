"""One serving process per database: an advisory lock in a file beside it.

    lock = DatabaseLock.acquire(db_path)       # raises DatabaseLocked if another holds it
    lock.announce("http://127.0.0.1:8025")     # where later comers should go instead
    ...
    lock.release()                             # also: `with DatabaseLock.acquire(path): ...`

Two servers on one file each prune to their own count, wait on their own change feed and
end each other's sessions as orphans, so a process that writes a database on its own
account (a server, `import --db`) takes the lock first and fails at once when it is held;
DatabaseLocked's message names the holder and `--url`, the way to reach it instead.
Reading needs no lock: `SQLiteStore(path, read_only=True)` opens a database read-only
beside the server that holds it (WAL lets readers share it with its writer); that is what
`export --db` uses.

The lock is flock(2) on `<db>.lock`: the kernel drops it when its holder ends, kill -9 and
power loss included, so a file left behind never blocks anyone. The file holds the holder's
pid and URL, only for the message. Where flock does not exist, nothing is locked.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from types import TracebackType

from mailtrap_lite.store.interface import StorageError

if sys.platform != "win32":
    import fcntl

__all__ = ["DatabaseLock", "DatabaseLocked", "lock_path"]


class DatabaseLocked(StorageError):
    """Another process serves this database; the message says which and how to reach it."""


def lock_path(db: Path) -> Path:
    """Return the lock file of a database: `mail.db` has `mail.db.lock`."""
    return db.with_name(db.name + ".lock")


class DatabaseLock:
    """The held lock of one database; release() (or leaving a `with`) lets it go."""

    def __init__(self, db: Path, fd: int) -> None:
        self.db = db
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, db: Path) -> DatabaseLock:
        """Take the lock of `db` without waiting; raise DatabaseLocked when it is held."""
        path = lock_path(db)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise StorageError(f"cannot use database {db}: {error.strerror or error}") from None
        if not _try_lock(fd):
            os.close(fd)
            raise DatabaseLocked(_held_message(db, path))
        lock = cls(db, fd)
        lock.announce(None)
        return lock

    def announce(self, url: str | None) -> None:
        """Record this process and its web URL (None: no web UI) for later comers."""
        if self._fd is None:
            return
        text = f"pid {os.getpid()}\nurl {url or ''}\n".encode()
        try:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, text, 0)
        except OSError:
            pass  # a full disk: the lock holds all the same, only the message says less

    def release(self) -> None:
        """Let the lock go (closing the file releases it); safe to repeat."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)

    def __enter__(self) -> DatabaseLock:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        return True  # no flock: nothing is locked there
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _held_message(db: Path, path: Path) -> str:
    """Say who holds the database and how to reach it instead (`--url`)."""
    facts = dict(line.partition(" ")[::2] for line in _read(path).splitlines())
    pid, url = facts.get("pid", "").strip(), facts.get("url", "").strip()
    holder = f"another mailtrap-lite (pid {pid})" if pid else "another mailtrap-lite"
    reach = f"--url {url}" if url else "--url with its web address"
    return (
        f"database {db} is in use by {holder}; only one process may serve or import into a"
        f" database: reach the running one with {reach}, or give this one another --db"
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
