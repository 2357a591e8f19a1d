"""Storage: the Store interface, its records and change feed; implementations in sqlite/."""

from mailtrap_lite.store.interface import (
    Delivery,
    IndexUpdate,
    Page,
    QueryTimeout,
    SessionFacts,
    StorageError,
    Store,
)

__all__ = [
    "Delivery",
    "IndexUpdate",
    "Page",
    "QueryTimeout",
    "SessionFacts",
    "StorageError",
    "Store",
]
