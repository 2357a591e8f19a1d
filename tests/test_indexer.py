"""The indexer: batches from a worker process one after another, and in-process sinks' ways."""

from __future__ import annotations

import smtplib

from mailtrap_lite.store.indexer import BATCH, Indexer
from mailtrap_lite.store.query import parse_query
from mailtrap_lite.store.sqlite import SQLiteStore
from mailtrap_lite.testing import Sink
from tests.apiserver import make_message, store_message, until


def _send(client: smtplib.SMTP, subject: str) -> None:
    raw = make_message(subject, f"body of {subject}").as_bytes()
    client.sendmail("app@example.com", ["user@example.com"], raw)


def test_the_worker_indexes_every_batch_in_order() -> None:
    store = SQLiteStore()
    indexer = Indexer(store, worker=True)
    try:
        ids = [store_message(store, make_message(f"n{n}", f"word{n}").as_bytes())
               for n in range(2 * BATCH + 3)]  # fmt: skip
        done = [indexer.run_once() for _ in range(4)]
        assert done == [BATCH, BATCH, 3, 0]
        assert store.stats()["unindexed"] == 0
        found = store.list_messages(query=parse_query(f"word{2 * BATCH + 2}")).messages
        assert [m.id for m in found] == ids[-1:]
    finally:
        indexer.stop()
        store.close()


def test_a_sink_parses_a_message_once_for_its_indexer_and_its_tests() -> None:
    with Sink() as sink:
        with smtplib.SMTP(sink.host, sink.port, local_hostname="client.example") as client:
            _send(client, "parsed once")
        assert until(lambda: sink.store.stats()["unindexed"] == 0)
        assert sink.store.message_cache.parses == 1  # the indexer's parse, kept
        [message] = sink.messages()
        assert message.text is not None and "body of parsed once" in message.text
        assert sink.store.message_cache.parses == 1  # the test's read found it


def test_a_sink_indexes_mail_of_a_session_that_stays_open() -> None:
    with Sink() as sink:
        with smtplib.SMTP(sink.host, sink.port, local_hostname="client.example") as client:
            _send(client, "kept open")
            assert until(lambda: sink.store.stats()["unindexed"] == 0)
            found = sink.store.list_messages(query=parse_query("subject:kept")).messages
            assert [m.subject for m in found] == ["kept open"]
