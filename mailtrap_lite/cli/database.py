"""Opening the database for the subcommands that work on it without serving it.

Exactly one function opens it for writing (`import --db`) and one for reading
(`export --db`), so that what guards a database another process serves stands in one place:
writing takes the database's lock (store/sqlite/lock.py), which fails with a message naming
`--url` while a server holds it; reading opens the database read-only, beside a server or not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mailtrap_lite.store import StorageError, Store
from mailtrap_lite.store.sqlite import SQLiteStore
from mailtrap_lite.store.sqlite.lock import DatabaseLock


@contextmanager
def open_for_writing(path: Path) -> Iterator[Store]:
    """Lock and open (or create) a database to import into, closed and unlocked after.

    DatabaseLocked (a StorageError) names the server that holds it and `--url`, the way to
    import through it instead. No retention: the server applies its own.
    """
    with DatabaseLock.acquire(path):
        store = SQLiteStore(path)
        try:
            yield store
        finally:
            store.close()


def open_for_reading(path: Path) -> Store:
    """Open an existing database read-only to export from; a missing file is an error.

    A server may be serving it meanwhile (WAL lets a reader share it with its writer).
    """
    if not path.is_file():
        raise StorageError(f"no database at {path} (give --db PATH or --url URL)")
    return SQLiteStore(path, read_only=True)
