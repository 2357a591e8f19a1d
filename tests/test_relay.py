"""Release to a real SMTP server: here a second in-process sink on 127.0.0.1 plays that part."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtrap_lite.config import Address, Config, ConfigError
from mailtrap_lite.smtp.relay import read_relay_config, rewrite_headers
from mailtrap_lite.testing import Sink
from tests.apiserver import Served, make_message, until
from tests.backends import Backend

pytestmark = pytest.mark.backends


@pytest.fixture
def target() -> Iterator[Sink]:
    """The 'real' server that released mail goes to."""
    with Sink() as running:
        yield running


def relay_file(tmp_path: Path, target: Sink, extra: str = "") -> Path:
    path = tmp_path / "relay.toml"
    path.write_text(
        f'host = "127.0.0.1"\nport = {target.port}\ntls = "none"\n'
        'allowed_recipients = "@example\\\\.com$"\nblocked_recipients = "^blocked@"\n' + extra,
        encoding="utf-8",
    )
    return path


@pytest.fixture
def relaying(tmp_path: Path, target: Sink, backend: Backend) -> Iterator[Served]:
    with backend.settings() as database:
        served = Served(relay_config=relay_file(tmp_path, target), **database)
        yield served
        served.stop()


def _one_message(served: Served) -> str:
    served.send(make_message("to release", Message_ID="<original@app.test>"),
                to=["someone@else.test"], sender="app@app.test")  # fmt: skip
    return str(served.get("/api/v1/messages").json()["messages"][0]["id"])


def test_a_released_message_reaches_the_other_server(relaying: Served, target: Sink) -> None:
    message_id = _one_message(relaying)
    reply = relaying.request("POST", f"/api/v1/messages/{message_id}/release",
                             body={"to": ["ann@example.com"]})  # fmt: skip
    assert reply.status == 200 and reply.json()["ok"] is True
    [arrived] = target.wait_for()
    assert arrived.rcpt_to == ["ann@example.com"] and arrived.mail_from == "app@app.test"
    assert arrived.subject == "to release"
    assert arrived.message_id != "<original@app.test>"  # preserve_message_id is off


def test_the_release_is_an_outgoing_session_with_its_transcript(relaying: Served) -> None:
    message_id = _one_message(relaying)
    outcome = relaying.request("POST", f"/api/v1/messages/{message_id}/release",
                               body={"to": ["ann@example.com"]}).json()  # fmt: skip
    session = relaying.get(f"/api/v1/sessions/{outcome['session_id']}").json()
    assert session["kind"] == "outgoing"
    lines = [(e["direction"], e["line"]) for e in session["transcript"]]
    assert ("client", "RCPT TO:<ann@example.com>") in lines
    assert any(d == "server" and line.startswith("250 2.0.0 Ok: queued as") for d, line in lines)
    assert outcome["reply"].startswith("250 2.0.0 Ok: queued as")


def test_the_release_is_recorded_on_the_message(relaying: Served) -> None:
    message_id = _one_message(relaying)
    relaying.request("POST", f"/api/v1/messages/{message_id}/release",
                     body={"to": ["ann@example.com"]})  # fmt: skip
    [release] = relaying.get(f"/api/v1/messages/{message_id}").json()["releases"]
    assert release["to"] == ["ann@example.com"] and release["ok"] is True


@pytest.mark.parametrize("to", [["ann@other.test"], ["ann@example.com", "blocked@example.com"]])
def test_a_recipient_outside_the_allow_list_is_refused_before_sending(
    relaying: Served, target: Sink, to: list[str]
) -> None:
    message_id = _one_message(relaying)
    reply = relaying.request("POST", f"/api/v1/messages/{message_id}/release", body={"to": to})
    assert reply.status == 400 and to[-1] in reply.json()["error"]
    assert target.store.list_messages().total == 0
    sessions = relaying.get("/api/v1/sessions").json()["sessions"]
    assert "outgoing" not in {s["kind"] for s in sessions}


def test_a_refusal_by_the_other_server_is_recorded_as_failed(
    relaying: Served, target: Sink
) -> None:
    target.faults.add("rcpt:to=*:550 5.1.1 No such user")
    message_id = _one_message(relaying)
    outcome = relaying.request("POST", f"/api/v1/messages/{message_id}/release",
                               body={"to": ["ann@example.com"]}).json()  # fmt: skip
    assert outcome["ok"] is False and outcome["reply"].startswith("550")


def test_release_is_off_without_a_relay_config(served: Served) -> None:
    served.send(make_message("x"))
    message_id = served.get("/api/v1/messages").json()["messages"][0]["id"]
    reply = served.request("POST", f"/api/v1/messages/{message_id}/release",
                           body={"to": ["ann@example.com"]})  # fmt: skip
    assert reply.status == 404 and "--relay-config" in reply.json()["error"]


def test_relay_matching_releases_new_matching_mail_automatically(
    tmp_path: Path, target: Sink
) -> None:
    served = Served(relay_config=relay_file(tmp_path, target), relay_matching="subject:urgent")
    try:
        served.send(make_message("urgent: call"), to=["ann@example.com", "bob@other.test"])
        served.send(make_message("not now"), to=["ann@example.com"])
        [arrived] = target.wait_for()
        assert arrived.subject == "urgent: call" and arrived.rcpt_to == ["ann@example.com"]
    finally:
        served.stop()


def test_relay_matching_without_an_allow_list_refuses_to_start(
    tmp_path: Path, target: Sink
) -> None:
    path = tmp_path / "open.toml"
    path.write_text(f'host = "127.0.0.1"\nport = {target.port}\ntls = "none"\n')
    config = Config(smtp=Address("127.0.0.1", 0), relay_config=path, relay_matching="x")
    with pytest.raises(ConfigError, match="allowed_recipients"):
        Sink(config).start()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [("port = 25\n", "host is required"), ('host = "h"\ntls = "ssl"\n', "tls must be"),
     ('host = "h"\nallowed_recipients = "("\n', "not a regular expression"),
     ('host = "h"\nhots = 1\n', "unknown keys"), ("host = \n", "not TOML")],
)  # fmt: skip
def test_a_bad_relay_config_names_the_problem(tmp_path: Path, text: str, complaint: str) -> None:
    path = tmp_path / "relay.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=complaint):
        read_relay_config(path)


def test_override_from_keeps_the_old_from_and_the_body() -> None:
    raw = b"From: a@x.test\r\nSubject: s\r\n folded\r\n\r\nFrom: body line\r\n"
    out = rewrite_headers(raw, {"from": "relay@x.test"}, [("X-Original-From", "a@x.test")])
    assert out == (b"From: relay@x.test\r\nX-Original-From: a@x.test\r\nSubject: s\r\n"
                   b" folded\r\n\r\nFrom: body line\r\n")  # fmt: skip


def test_release_keeps_the_message_id_when_asked(tmp_path: Path, target: Sink) -> None:
    extra = 'preserve_message_id = true\noverride_from = "relay@example.com"\n'
    served = Served(relay_config=relay_file(tmp_path, target, extra))
    try:
        message_id = _one_message(served)
        served.request("POST", f"/api/v1/messages/{message_id}/release",
                       body={"to": ["ann@example.com"]})  # fmt: skip
        [arrived] = target.wait_for()
        assert arrived.message_id == "<original@app.test>"
        assert arrived.from_ == "relay@example.com"
        assert arrived.header_values("X-Original-From") == ["Sender <sender@example.com>"]
    finally:
        served.stop()


def test_the_ui_offers_release_only_when_configured(relaying: Served, served: Served) -> None:
    for running, offered in ((relaying, True), (served, False)):
        running.send(make_message("x"))
        message_id = until(lambda r=running: r.get("/api/v1/messages").json()["messages"])[0]["id"]
        page = running.get(f"/messages/{message_id}").body.decode()
        assert ('data-action="release"' in page) is offered
