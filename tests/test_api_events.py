"""GET /api/v1/events: Server-Sent Events read by a real HTTP client from a real server."""

from __future__ import annotations

import http.client
import json
import smtplib
import socket
import time
from dataclasses import dataclass
from typing import Any

import pytest

from tests.apiserver import Served, make_message, until

pytestmark = pytest.mark.backends  # each test runs on SQLite and on PostgreSQL


@dataclass
class Event:
    """One event of a text/event-stream (comments are kind "comment")."""

    kind: str
    id: str | None
    data: Any


class EventReader:
    """An open event stream, read line by line (WHATWG HTML §9.2 framing)."""

    def __init__(
        self, served: Served, headers: dict[str, str] | None = None, path: str = ""
    ) -> None:
        self.conn = served.connect(timeout=10)
        self.conn.request("GET", "/api/v1/events" + path, headers=headers or {})
        self.sock = self.conn.sock  # the response takes the socket over
        self.response = self.conn.getresponse()

    def next(self, timeout: float = 10.0) -> Event | None:
        """Return the next event or comment; None when the stream has ended."""
        self.sock.settimeout(timeout)
        fields: dict[str, str] = {}
        while True:
            line = self.response.readline()
            if not line:
                return None
            text = line.decode().rstrip("\n")
            if text.startswith(":"):
                return Event("comment", None, text[1:].strip())
            if text:
                name, _, value = text.partition(": ")
                fields[name] = value
            elif "event" in fields:
                return Event(fields["event"], fields.get("id"), json.loads(fields["data"]))
            else:
                fields.clear()  # the retry: block

    def until(self, kind: str, timeout: float = 10.0) -> Event:
        """Skip events until one of `kind` arrives."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            event = self.next(remaining)
            if event is None:
                raise AssertionError(f"stream ended before a {kind!r} event")
            if event.kind == kind:
                return event
        raise AssertionError(f"no {kind!r} event within {timeout} s")

    def close(self) -> None:
        self.conn.close()


def test_stream_is_an_event_stream_that_starts_at_once(served: Served) -> None:
    reader = EventReader(served)
    assert reader.response.status == 200
    assert reader.response.headers["Content-Type"].startswith("text/event-stream")
    assert reader.response.headers["Cache-Control"] == "no-cache"
    assert reader.response.readline() == b"retry: 2000\n"
    reader.close()


def test_new_message_arrives_as_a_message_event(served: Served) -> None:
    reader = EventReader(served)
    served.send(make_message("live one"))
    event = reader.until("message")
    assert event.data["subject"] == "live one" and event.id is not None and event.id.isdigit()
    reader.close()


def test_sessions_and_deletions_arrive_as_events(served: Served) -> None:
    reader = EventReader(served)
    served.send(make_message("to delete"))
    session = reader.until("session")
    message = reader.until("message")
    assert session.data["peer"].startswith("127.0.0.1") and "transcript" not in session.data
    served.request("DELETE", f"/api/v1/messages/{message.data['id']}")
    assert reader.until("deleted").data == {"ids": [message.data["id"]]}
    reader.close()


def test_indexing_and_read_flag_arrive_as_updated_events(served: Served) -> None:
    reader = EventReader(served)
    served.send(make_message("snippet", "first words of the body\n"))
    indexed = reader.until("updated")
    assert indexed.data["snippet"] == "first words of the body"
    served.request("PATCH", f"/api/v1/messages/{indexed.data['id']}", body={"read": True})
    assert reader.until("updated").data["read"] is True
    reader.close()


def test_last_event_id_resumes_after_that_event(served: Served) -> None:
    reader = EventReader(served)
    served.send(make_message("first"))
    first = reader.until("message")
    reader.close()
    served.send(make_message("second"))
    resumed = EventReader(served, {"Last-Event-ID": str(first.id)})
    event = resumed.until("message")
    assert event.data["subject"] == "second" and int(str(event.id)) > int(str(first.id))
    resumed.close()


def test_forgotten_last_event_id_gets_a_reset_event(served: Served) -> None:
    reader = EventReader(served, {"Last-Event-ID": "999999"})
    assert reader.until("reset").data == {}
    reader.close()


def test_bad_last_event_id_is_400(served: Served) -> None:
    reply = served.request("GET", "/api/v1/events", headers={"Last-Event-ID": "abc"})
    assert reply.status == 400 and "Last-Event-ID" in reply.json()["error"]


def test_idle_stream_gets_heartbeat_comments(make_served: Any) -> None:
    served: Served = make_served(events_heartbeat=0.2)
    reader = EventReader(served)
    assert reader.next() == Event("comment", None, "keep-alive")
    reader.close()


def test_stream_ends_after_its_lifetime(make_served: Any) -> None:
    served: Served = make_served(events_seconds=0.5, events_heartbeat=0.2)
    reader = EventReader(served)
    started = time.monotonic()
    while reader.next(5) is not None:
        pass
    assert time.monotonic() - started < 3
    reader.close()


def test_inbox_filter_skips_other_inboxes(served: Served) -> None:
    reader = EventReader(served, path="?inbox=default")
    with_auth = make_message("team mail")
    with smtplib.SMTP(served.sink.host, served.sink.port) as client:
        client.login("team", "secret")
        client.sendmail("a@example.com", ["b@example.com"], with_auth.as_bytes())
    served.send(make_message("default mail"))
    assert reader.until("message").data["subject"] == "default mail"
    reader.close()


def test_client_that_goes_away_frees_its_slot(make_served: Any) -> None:
    served: Served = make_served(http_max_waits=1, events_heartbeat=0.1)
    reader = EventReader(served)
    assert served.get("/api/v1/wait", timeout=0).status == 503
    reader.sock.shutdown(socket.SHUT_RDWR)
    reader.close()
    until(lambda: served.get("/api/v1/wait", timeout=0).status == 408)


def test_streams_past_the_cap_get_503(make_served: Any) -> None:
    served: Served = make_served(http_max_waits=1)
    reader = EventReader(served)
    conn = served.connect()
    conn.request("GET", "/api/v1/events")
    refused = conn.getresponse()
    assert refused.status == 503 and b"too many" in refused.read()
    conn.close()
    reader.close()


def test_stopping_the_server_ends_streams(make_served: Any) -> None:
    served: Served = make_served()
    reader = EventReader(served)
    until(lambda: served.get("/api/v1/health").json()["live_connections"] == 1)
    started = time.monotonic()
    served.stop()
    try:
        while reader.next(5) is not None:
            pass
    except (http.client.HTTPException, OSError):
        pass  # a closed connection ends the stream as well
    assert time.monotonic() - started < 5
