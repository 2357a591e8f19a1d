"""The SQLite Store: one file in WAL mode, the embedded default."""

from mailtrap_lite.store.sqlite.store import SQLiteStore

__all__ = ["SQLiteStore"]
