"""Sessions, inboxes and health of the JSON API, over a real server."""

from __future__ import annotations

import smtplib

import pytest

from tests.apiserver import Served, make_message, until

pytestmark = pytest.mark.backends  # each test runs on SQLite and on PostgreSQL


def send_as(served: Served, user: str, subject: str) -> None:
    with smtplib.SMTP(served.sink.host, served.sink.port) as client:
        client.login(user, "pa55word")
        client.sendmail("a@example.com", ["b@example.com"], make_message(subject).as_bytes())


def ended_sessions(served: Served, count: int, **params: object) -> list[dict]:
    def ended() -> list[dict] | None:
        sessions = served.get("/api/v1/sessions", **params).json()["sessions"]
        done = [s for s in sessions if s["ended_at"]]
        return done if len(done) >= count else None

    return until(ended)


def test_sessions_are_listed_newest_first_without_transcripts(served: Served) -> None:
    send_as(served, "team", "one")
    served.send(make_message("two"))
    sessions = ended_sessions(served, 2)
    assert [s["inbox"] for s in sessions] == ["default", "team"]
    assert sessions[1]["auth_user"] == "team" and sessions[1]["end_reason"] == "quit"
    assert all("transcript" not in s and len(s["message_ids"]) == 1 for s in sessions)


def test_sessions_filter_by_inbox_and_page_with_before(served: Served) -> None:
    for subject in ("a", "b", "c"):
        send_as(served, "team", subject)
    served.send(make_message("other"))
    team = ended_sessions(served, 3, inbox="team")
    assert len(team) == 3 and {s["inbox"] for s in team} == {"team"}
    page = served.get("/api/v1/sessions", inbox="team", limit=1, before=team[0]["id"]).json()
    assert [s["id"] for s in page["sessions"]] == [team[1]["id"]]


def test_session_detail_has_a_masked_transcript(served: Served) -> None:
    send_as(served, "team", "secret test")
    [session] = ended_sessions(served, 1)
    detail = served.get(f"/api/v1/sessions/{session['id']}").json()
    lines = [entry["line"] for entry in detail["transcript"]]
    assert detail["message_ids"] == session["message_ids"]
    assert any(line.lower().startswith("ehlo") for line in lines)
    assert "AUTH PLAIN ****" in lines
    assert not any("pa55word" in line for line in lines)
    assert {entry["direction"] for entry in detail["transcript"]} == {"client", "server"}


def test_inboxes_count_messages_and_unread(served: Served) -> None:
    send_as(served, "team", "t1")
    send_as(served, "team", "t2")
    served.send(make_message("d1"))
    until(lambda: served.get("/api/v1/messages").json()["total"] == 3)
    first = served.get("/api/v1/messages", inbox="team").json()["messages"][0]
    served.request("PATCH", f"/api/v1/messages/{first['id']}", body={"read": True})
    assert served.get("/api/v1/inboxes").json() == {
        "inboxes": [
            {"name": "default", "total": 1, "unread": 1},
            {"name": "team", "total": 2, "unread": 1},
        ]
    }


def test_health_reports_counts_smtp_address_and_index_lag(served: Served) -> None:
    served.send(make_message("counted"))
    health = until(lambda: (h := served.get("/api/v1/health").json())["unindexed"] == 0 and h)
    assert health["status"] == "ok" and health["version"]
    assert health["messages"] == 1 and health["pruned"] == 0
    assert health["smtp"] == f"{served.sink.host}:{served.sink.port}"
    assert health["index_lag_seconds"] == 0.0 and health["live_connections"] == 0


def test_health_reports_pruned_messages(make_served) -> None:
    served: Served = make_served(max_messages=2)
    for i in range(3):
        served.send(make_message(f"m{i}"))
    health = served.get("/api/v1/health").json()
    assert (health["messages"], health["pruned"]) == (2, 1)
