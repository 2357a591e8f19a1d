"""How sessions are judged and shown: failures, abrupt endings, injected faults."""

from __future__ import annotations

import re
import smtplib
import socket

import pytest
from playwright.sync_api import expect

from mailtrap_lite.store.records import SessionRecord, TranscriptEntry
from mailtrap_lite.web.ui.sessions import transcript_lines
from tests.uikit import ARTIFACTS, text_message

T0 = "2026-01-01T10:00:00.000Z"


def entry(line: str, direction: str = "server", injected: bool = False) -> TranscriptEntry:
    return TranscriptEntry(T0, direction, line, injected)


def session(lines: list[TranscriptEntry], end_reason: str | None = "quit") -> SessionRecord:
    return SessionRecord(1, "default", "127.0.0.1:1", "client", None, None, None, T0,
                         T0, end_reason, [], lines)  # fmt: skip


def test_transcript_times_are_relative_to_the_session_start() -> None:
    later = TranscriptEntry("2026-01-01T10:00:01.250Z", "client", "QUIT")
    [line] = transcript_lines(session([later]))
    assert line.offset == "+1.250s"


def test_dropped_connection_is_highlighted_on_the_sessions_page(ui_server, page) -> None:
    with socket.create_connection((ui_server.sink.host, ui_server.sink.port), timeout=5) as sock:
        sock.recv(1024)
        sock.sendall(b"EHLO dropper\r\n")
        sock.recv(4096)
    store = ui_server.sink.store
    page.goto(ui_server.url + "/sessions")
    expect(page.locator("tr.failed")).to_contain_text("disconnected without QUIT")
    assert store.list_sessions()[0].end_reason == "disconnect"


def test_injected_fault_is_marked_in_the_transcript(make_ui_server, page) -> None:
    server = make_ui_server(faults=("mail:451 4.3.0 Try again later",))
    with smtplib.SMTP(server.sink.host, server.sink.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPSenderRefused):
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: x\r\n\r\nx\r\n")
    page.goto(server.url + "/sessions")
    failed = page.locator("table.sessions tr.failed")
    expect(failed).to_contain_text("1 injected fault(s)")
    failed.locator("a").first.click()
    injected = page.locator("table.transcript tr.injected")
    expect(injected).to_have_count(1)
    expect(injected).to_contain_text("451 4.3.0 Try again later")
    expect(injected).to_contain_text("injected fault")
    expect(injected.locator("td.at")).to_have_text(re.compile(r"^\+\d+\.\d{3}s$"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "transcript-injected.png"), full_page=True)


def test_sessions_page_follows_sessions_as_they_start_and_end(ui_server, page) -> None:
    ui_server.send(text_message("Earlier"))
    page.goto(ui_server.url + "/sessions")
    expect(page.locator("body")).to_have_attribute("data-live", "open")
    page.evaluate("window.sameDocument = true")
    expect(page.locator("table.sessions tbody tr")).to_have_count(1)
    with smtplib.SMTP(ui_server.sink.host, ui_server.sink.port, timeout=10) as client:
        client.ehlo("live-client")
        expect(page.locator("table.sessions tbody tr").first).to_contain_text("open")
        assert client.docmd("NOSUCHCOMMAND")[0] == 500
    newest = page.locator("table.sessions tbody tr").first
    expect(newest).to_have_class(re.compile(r"\bfailed\b"))
    expect(newest).to_contain_text("quit")
    expect(page.locator("table.sessions tbody tr")).to_have_count(2)
    newest.locator("td").nth(2).click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+$"))
    assert page.evaluate("window.sameDocument") is None


def test_open_session_page_shows_the_rest_once_the_session_ends(ui_server, page) -> None:
    with smtplib.SMTP(ui_server.sink.host, ui_server.sink.port, timeout=10) as client:
        client.ehlo("still-talking")
        [open_session] = ui_server.sink.store.list_sessions()
        page.goto(f"{ui_server.url}/sessions/{open_session.id}")
        expect(page.locator("body")).to_have_attribute("data-live", "open")
        expect(page.locator(".open-note")).to_be_visible()
    client_lines = page.locator("table.transcript tr.client")
    expect(client_lines.filter(has_text="QUIT")).to_have_count(1)
    expect(page.locator(".open-note")).to_have_count(0)


def test_sessions_page_draws_sessions_from_their_events_without_fetching_the_page(
    ui_server, page
) -> None:
    page.goto(ui_server.url + "/sessions")
    expect(page.locator("body")).to_have_attribute("data-live", "open")
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    with smtplib.SMTP(ui_server.sink.host, ui_server.sink.port, timeout=10) as client:
        client.ehlo("failing-client")
        assert client.docmd("NOSUCHCOMMAND")[0] == 500
    newest = page.locator("table.sessions tbody tr").first
    expect(newest).to_have_class(re.compile(r"\bfailed\b"))
    expect(newest).to_contain_text("1 permanent failure(s), first: 500 5.5.1")
    expect(newest.locator(".s-reason")).to_have_text("quit")
    assert [url for url in fetched if "/api/v1/" not in url] == []


def test_sessions_page_keeps_its_size_and_offers_the_older_ones(ui_server, page) -> None:
    for _ in range(50):
        with socket.create_connection((ui_server.sink.host, ui_server.sink.port)) as sock:
            sock.recv(1024)
            sock.sendall(b"QUIT\r\n")
            sock.recv(1024)
    sessions = ui_server.sink.store.list_sessions(limit=100)
    assert len(sessions) == 50
    page.goto(ui_server.url + "/sessions")
    expect(page.locator("body")).to_have_attribute("data-live", "open")
    expect(page.locator("#older")).to_be_hidden()
    ui_server.send(text_message("One more session"))
    rows = page.locator("table.sessions tbody tr")
    expect(rows.first.locator(".s-count")).to_have_text("1")
    expect(rows).to_have_count(50)
    expect(page.locator("#older")).to_have_attribute("href", f"/sessions?before={sessions[-2].id}")
    page.locator("#older").click()
    expect(page.locator("table.sessions tbody tr")).to_have_count(1)
    expect(page.locator("table.sessions tbody tr a").first).to_have_text(f"#{sessions[-1].id}")


def test_session_listed_while_open_is_redrawn_when_it_ends(ui_server, page) -> None:
    with smtplib.SMTP(ui_server.sink.host, ui_server.sink.port, timeout=10) as client:
        client.ehlo("slow-client")
        page.goto(ui_server.url + "/sessions")
        row = page.locator("table.sessions tbody tr").first
        expect(row.locator(".s-reason")).to_have_text("open")
        assert client.docmd("NOSUCHCOMMAND")[0] == 500
    expect(row.locator(".s-reason")).to_have_text("quit")
    expect(row).to_have_class(re.compile(r"\bfailed\b"))
    expect(row.locator(".s-problems")).to_contain_text("1 permanent failure(s)")
