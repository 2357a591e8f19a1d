"""Opening the database for the subcommands that work on it without serving it.

Exactly one function opens it for writing (`import --db`) and one for reading
(`export --db`), so that what guards a database another process serves stands in one place.
"""

from __future__ import annotations

from pathlib import Path

from mailtrap_lite.store import StorageError, Store
from mailtrap_lite.store.sqlite import SQLiteStore


def open_for_writing(path: Path) -> Store:
    """Open (or create) a database to import into; no retention: the server applies its own."""
    return SQLiteStore(path)


def open_for_reading(path: Path) -> Store:
    """Open an existing database to export from; a missing file is an error, never created."""
    if not path.is_file():
        raise StorageError(f"no database at {path} (give --db PATH or --url URL)")
    return SQLiteStore(path)
