"""The Store backends that Store-level suites run against, one pytest parameter each.

A backend is a function that opens an empty Store and a name for test ids; a suite takes
them through the `store_backend` parameter so that another backend joins by adding a line.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mailtrap_lite.store import Store
from mailtrap_lite.store.sqlite import SQLiteStore
from tests.backends import open_postgres_store

STORE_BACKENDS: dict[str, Callable[[], Store]] = {
    "sqlite": SQLiteStore,  # a temporary database, removed by close()
    "postgres": open_postgres_store,  # a fresh database of this worker's throwaway cluster
}


def each_backend() -> list[object]:
    """Return the backends as pytest parameters, named for test ids."""
    return [pytest.param(opener, id=name) for name, opener in STORE_BACKENDS.items()]
