"""The compatible APIs' listeners: flags, start-up lines, the main port's /compat paths, the
same guards as the main listener, and MailHog's and Mailpit's routes the clients do not use."""

from __future__ import annotations

import http.client
import json
import smtplib
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from mailtrap_lite.config import Address, Config
from mailtrap_lite.testing import Sink
from tests.apiserver import make_message
from tests.process import ServerProcess, run_cli

LOCAL = Address("127.0.0.1", 0)
Launch = Callable[..., ServerProcess]


def call(base: str, method: str, path: str, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, parts.path + path, body=data, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@pytest.fixture
def sink() -> Iterator[Sink]:
    with Sink(Config(smtp=LOCAL), http=LOCAL, mailpit_http=LOCAL, mailhog_http=LOCAL) as running:
        yield running


def send(sink: Sink, subject: str = "hello", to: str = "ann@example.com") -> int:
    before = sink.cursor().message_id
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.sendmail("app@example.com", [to], make_message(subject, To=to).as_bytes())
    return sink.wait_for(after=before)[0].id


def test_the_command_line_starts_and_announces_both_listeners(launch: Launch) -> None:
    server = launch("--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--db", ":memory:",
                    "--mailpit-http", "127.0.0.1:0", env={"MAILTRAP_LITE_MAILHOG_HTTP":
                                                          "127.0.0.1:0"})  # fmt: skip
    for name, path in (("mailpit-http", "/api/v1/info"), ("mailhog-http", "/api/v2/messages")):
        with urllib.request.urlopen(server.info[name] + path, timeout=10) as reply:
            assert reply.status == 200
    assert server.stop()[0] == 0


def test_the_compatible_listeners_are_off_by_default(launch: Launch) -> None:
    server = launch("--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--db", ":memory:")
    assert "mailpit-http" not in server.info and "mailhog-http" not in server.info
    server.stop()


def test_a_taken_compat_port_is_a_clear_error(sink: Sink) -> None:
    port = urlsplit(sink.mailpit_url).port
    result = run_cli("--smtp", "127.0.0.1:0", "--http", "off", "--db", ":memory:",
                     "--mailpit-http", f"127.0.0.1:{port}")  # fmt: skip
    assert result.returncode == 2 and "address already in use" in result.stderr.lower()


@pytest.mark.parametrize("where", ["mailpit", "mailhog", "main"])
def test_every_listener_asks_for_the_ui_credentials(where: str) -> None:
    config = Config(smtp=LOCAL, ui_auth=("team", "secret"))
    with Sink(config, http=LOCAL, mailpit_http=LOCAL, mailhog_http=LOCAL) as sink:
        base = {"mailpit": sink.mailpit_url, "mailhog": sink.mailhog_url,
                "main": sink.web_url + "/compat/mailpit"}[where]  # fmt: skip
        path = "/api/v2/messages" if where == "mailhog" else "/api/v1/messages"
        status, headers, _ = call(base, "GET", path)
        challenge = {k.lower(): v for k, v in headers.items()}["www-authenticate"]
        assert status == 401 and challenge.startswith("Basic")
        good = {"Authorization": "Basic dGVhbTpzZWNyZXQ="}
        assert call(base, "GET", path, headers=good)[0] == 200


def test_cors_is_answered_on_the_compat_listeners_only_when_asked_for() -> None:
    origin = {"Origin": "http://app.test"}
    with Sink(Config(smtp=LOCAL), mailpit_http=LOCAL) as plain_sink:
        _, headers, _ = call(plain_sink.mailpit_url, "GET", "/api/v1/messages", headers=origin)
        assert "Access-Control-Allow-Origin" not in headers
    with Sink(Config(smtp=LOCAL, cors="http://app.test"), mailpit_http=LOCAL) as sink:
        _, headers, _ = call(sink.mailpit_url, "GET", "/api/v1/messages", headers=origin)
        assert headers["Access-Control-Allow-Origin"] == "http://app.test"


def test_a_mailpit_delete_without_ids_empties_only_through_the_mailpit_api(sink: Sink) -> None:
    send(sink)
    assert call(sink.mailpit_url, "DELETE", "/api/v1/messages")[2] == b"ok"
    assert sink.store.count_messages() == 0


def test_a_cross_site_read_does_not_mark_the_message_read(sink: Sink) -> None:
    message_id = send(sink)
    call(sink.mailpit_url, "GET", f"/api/v1/message/{message_id}",
         headers={"Sec-Fetch-Site": "cross-site"})  # fmt: skip
    assert sink.store.get_message(message_id).read is False  # type: ignore[union-attr]
    call(sink.mailpit_url, "GET", f"/api/v1/message/{message_id}")
    assert sink.store.get_message(message_id).read is True  # type: ignore[union-attr]


def test_latest_honours_the_query(sink: Sink) -> None:
    send(sink, "first")
    send(sink, "second")
    status, _, body = call(sink.mailpit_url, "GET", "/api/v1/message/latest?query=subject:first")
    assert status == 200 and json.loads(body)["Subject"] == "first"


@pytest.mark.parametrize(("query", "status"), [("before:yesterday-ish", 400),
                                               ("larger:3parsecs", 400), ("", 400)])
def test_mailpit_search_errors_are_plain_400s(sink: Sink, query: str, status: int) -> None:
    got, headers, body = call(sink.mailpit_url, "GET", f"/api/v1/search?query={query}")
    assert got == status and headers["Content-Type"].startswith("text/plain") and body


def test_mailpit_dates_read_in_the_given_time_zone(sink: Sink) -> None:
    from tests.apiserver import store_message

    noon = "2024-05-10T12:00:00.000Z"
    store_message(sink.store, b"Subject: noon\r\n\r\nx\r\n", received_at=noon)
    query = "/api/v1/search?query=after:2024-05-11"
    assert json.loads(call(sink.mailpit_url, "GET", query)[2])["messages_count"] == 0
    # 2024-05-11 00:00 at UTC+14 is 2024-05-10 10:00 UTC: noon UTC comes after it
    kiritimati = query + "&tz=Pacific/Kiritimati"
    assert json.loads(call(sink.mailpit_url, "GET", kiritimati)[2])["messages_count"] == 1
    assert call(sink.mailpit_url, "GET", "/api/v1/search?query=x&tz=Mars/Base")[0] == 400


def test_mailhog_v1_reads_downloads_and_deletes_one_message(sink: Sink) -> None:
    message_id = send(sink, "v1")
    status, _, body = call(sink.mailhog_url, "GET", f"/api/v1/messages/{message_id}")
    shaped = json.loads(body)
    assert status == 200 and shaped["Content"]["Headers"]["Subject"] == ["v1"]
    assert shaped["From"] == {"Relays": None, "Mailbox": "app", "Domain": "example.com",
                              "Params": ""}  # fmt: skip
    status, headers, raw = call(sink.mailhog_url, "GET", f"/api/v1/messages/{message_id}/download")
    assert raw == sink.store.raw(message_id) and f"{message_id}.eml" in headers[
        "Content-Disposition"]  # fmt: skip
    assert json.loads(call(sink.mailhog_url, "GET", "/api/v1/messages")[2])[0]["ID"] == str(
        message_id)  # fmt: skip
    assert call(sink.mailhog_url, "DELETE", f"/api/v1/messages/{message_id}")[0] == 200
    assert call(sink.mailhog_url, "GET", f"/api/v1/messages/{message_id}")[0] == 404


def test_mailhog_part_download_decodes_base64(sink: Sink) -> None:
    message = make_message("with part")
    message.add_attachment(b"\x00\x01binary", maintype="application", subtype="octet-stream",
                           filename="b.bin")  # fmt: skip
    before = sink.cursor().message_id
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.send_message(message, "a@example.com", ["b@example.com"])
    [stored] = sink.wait_for(after=before)
    path = f"/api/v1/messages/{stored.id}/mime/part/1/download"
    status, _, body = call(sink.mailhog_url, "GET", path)
    assert status == 200 and body == b"\x00\x01binary"


@pytest.mark.parametrize("query", ["kind=bogus&query=x", "kind=from&query="])
def test_mailhog_bad_searches_are_400s(sink: Sink, query: str) -> None:
    assert call(sink.mailhog_url, "GET", f"/api/v2/search?{query}")[0] == 400


def test_mailhog_events_stream_each_new_message(sink: Sink) -> None:
    parts = urlsplit(sink.mailhog_url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    conn.request("GET", "/api/v1/events")
    response = conn.getresponse()
    assert response.getheader("Content-Type").startswith("text/event-stream")
    response.readline()  # the opening comment
    response.readline()
    send(sink, "streamed")
    lines = []
    while (line := response.readline().decode()) != "\n":
        lines.append(line)
    conn.close()
    assert lines[0] == "event: data\n"
    shaped = json.loads("".join(line.removeprefix("data: ") for line in lines[1:]))
    assert shaped["Content"]["Headers"]["Subject"] == ["streamed"]


def test_mailhog_jim_becomes_fault_rules_and_goes_away(sink: Sink) -> None:
    assert call(sink.mailhog_url, "GET", "/api/v2/jim")[0] == 404
    body = {"RejectRecipientChance": 1, "AcceptChance": 1, "DisconnectChance": 0,
            "RejectSenderChance": 0, "RejectAuthChance": 0}  # fmt: skip
    assert call(sink.mailhog_url, "POST", "/api/v2/jim", body)[0] == 201
    assert json.loads(call(sink.mailhog_url, "GET", "/api/v2/jim")[2])["RejectRecipientChance"] == 1
    with smtplib.SMTP(sink.host, sink.port) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: x\r\n\r\nx\r\n")
    assert call(sink.mailhog_url, "DELETE", "/api/v2/jim")[0] == 200
    assert sink.faults.rules() == []


def test_the_plugin_serves_the_compatible_apis_when_asked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_compat="""
import json, urllib.request

def test_urls(smtp_sink_server):
    for url, path in ((smtp_sink_server.mailpit_url, "/api/v1/info"),
                      (smtp_sink_server.mailhog_url, "/api/v2/messages")):
        with urllib.request.urlopen(url + path, timeout=10) as reply:
            assert reply.status == 200
""")
    result = pytester.runpytest_subprocess("--smtp-sink-mailpit", "--smtp-sink-mailhog")
    result.assert_outcomes(passed=1)
