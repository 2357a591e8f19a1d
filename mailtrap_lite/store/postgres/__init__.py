"""The PostgreSQL Store: one database that several nodes can share (psycopg 3 and its pool).

Importing this package imports psycopg; the SQLite default and the pytest plugin never do.
"""

from mailtrap_lite.store.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
