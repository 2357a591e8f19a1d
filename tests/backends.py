"""The Store backends the suite runs against: SQLite, and PostgreSQL on a throwaway cluster.

A test module marked `pytest.mark.backends` runs each test that uses the `backend` fixture
(directly, or through `store`, `served`, `make_served`) once per backend; other modules use
SQLite. `backend.store()` opens a Store on a fresh database and `backend.settings()` gives
the Config settings of one (both context managers: the database is dropped afterwards).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mailtrap_lite.store import Store
from mailtrap_lite.store.sqlite import SQLiteStore
from tests.pgcluster import Cluster, ClusterUnavailable, shared_cluster

NAMES = ("sqlite", "postgres")


class SQLiteBackend:
    """Temporary SQLite files (the embedded default)."""

    name = "sqlite"

    @contextmanager
    def store(self, **settings: Any) -> Iterator[Store]:
        """Open a Store on a fresh temporary file; close (and remove) it afterwards."""
        opened = SQLiteStore(None, **settings)
        try:
            yield opened
        finally:
            opened.close()

    @contextmanager
    def settings(self) -> Iterator[dict[str, Any]]:
        """Give Config settings of a fresh database (SQLite: the default temporary one)."""
        yield {}

    @contextmanager
    def reopenable(self) -> Iterator[Callable[..., Store]]:
        """Give a function that opens a Store on one fresh database, again and again."""
        with tempfile.TemporaryDirectory() as folder:
            yield lambda **settings: SQLiteStore(Path(folder) / "mail.db", **settings)


class PostgresBackend:
    """Fresh databases of this worker's throwaway PostgreSQL cluster."""

    name = "postgres"

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.files = Path(tempfile.gettempdir())

    def open(self, url: str, **settings: Any) -> Store:
        """Open a PostgreSQL Store on a database of the cluster."""
        from mailtrap_lite.store.postgres import PostgresStore

        return PostgresStore(url, files=self.files / "mailtrap-lite-test", **settings)

    @contextmanager
    def database(self) -> Iterator[str]:
        """Create a fresh database (schema already applied); drop it afterwards."""
        url = self.cluster.new_database()
        try:
            yield url
        finally:
            self.cluster.drop_database(url)

    @contextmanager
    def store(self, **settings: Any) -> Iterator[Store]:
        """Open a Store on a fresh database; close it and drop the database afterwards."""
        with self.database() as url:
            opened = self.open(url, **settings)
            try:
                yield opened
            finally:
                opened.close()

    @contextmanager
    def settings(self) -> Iterator[dict[str, Any]]:
        """Give Config settings that put the Store in a fresh database."""
        with self.database() as url:
            yield {"db_url": url}

    @contextmanager
    def reopenable(self) -> Iterator[Callable[..., Store]]:
        """Give a function that opens a Store on one fresh database, again and again."""
        with self.database() as url:
            yield lambda **settings: self.open(url, **settings)


Backend = SQLiteBackend | PostgresBackend


def open_postgres_store() -> Store:
    """Open a PostgreSQL Store on a fresh database (skip the test where none can start).

    The database goes when the worker's cluster is removed.
    """
    import pytest

    try:
        cluster = shared_cluster()
    except ClusterUnavailable as error:
        pytest.skip(f"PostgreSQL unavailable: {error}")
    return PostgresBackend(cluster).open(cluster.new_database())
