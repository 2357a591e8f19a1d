"""Raw bytes round trip: every message of CPython's own email test corpus comes back exact."""

from __future__ import annotations

import smtplib
import sysconfig
from pathlib import Path

import pytest

from mailtrap_lite.testing import Sink

CORPUS = Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data"
FILES = sorted(CORPUS.glob("msg_*.txt")) if CORPUS.is_dir() else []


def as_crlf(data: bytes) -> bytes:
    """Convert to CRLF line endings with a final CRLF, as an SMTP client sends it."""
    data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return data if data.endswith(b"\r\n") else data + b"\r\n"


@pytest.mark.skipif(not FILES, reason=f"CPython's email test corpus is not installed ({CORPUS})")
def test_every_corpus_message_is_stored_byte_for_byte(sink: Sink) -> None:
    expected = [as_crlf(path.read_bytes()) for path in FILES]
    with smtplib.SMTP(sink.host, sink.port) as client:
        for data in expected:
            client.sendmail("corpus@example.com", ["r@example.com"], data)
    stored = sink.wait_for(count=len(expected), timeout=30)
    assert sink.store is not None
    mismatched = [
        path.name
        for path, data, message in zip(FILES, expected, stored, strict=True)
        if sink.store.raw(message.id) != data or message.size != len(data)
    ]
    assert mismatched == []
    assert len(stored) > 40


@pytest.mark.skipif(not FILES, reason=f"CPython's email test corpus is not installed ({CORPUS})")
def test_every_corpus_message_gets_indexed(sink: Sink) -> None:
    with smtplib.SMTP(sink.host, sink.port) as client:
        for path in FILES:
            client.sendmail("corpus@example.com", ["r@example.com"], as_crlf(path.read_bytes()))
    sink.wait_for(count=len(FILES), timeout=30, where=lambda m: m.record.indexed)
    assert all(m.record.snippet is not None for m in sink.messages())
