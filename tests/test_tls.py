"""TLS: STARTTLS, implicit TLS, the self-signed certificate, --require-tls, --auth-require-tls."""

from __future__ import annotations

import asyncio
import os
import smtplib
import ssl
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import aiosmtplib
import pytest

from mailtrap_lite.config import Address, Config, ConfigError
from mailtrap_lite.smtp.tls import client_context, write_self_signed
from mailtrap_lite.testing import Sink
from mailtrap_lite.web import shapes
from tests import statuscodes
from tests.sessionwait import last_session

MESSAGE = b"Subject: secret\r\n\r\nover TLS\r\n"
MakeSink = Callable[..., Sink]


@pytest.fixture
def tls_sink(make_sink: MakeSink) -> Sink:
    """A sink with a self-signed certificate, STARTTLS and an implicit-TLS listener."""
    return make_sink(tls_self_signed=True, smtps=Address("127.0.0.1", 0))


def strict_context(sink: Sink) -> ssl.SSLContext:
    """A client context trusting only the sink's certificate, verifying strictly."""
    context = sink.client_tls_context()
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    return context


def test_starttls_is_not_offered_without_a_certificate(sink: Sink) -> None:
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.ehlo()
        assert not client.has_extn("starttls")


def test_starttls_with_verified_certificate_delivers_mail(tls_sink: Sink) -> None:
    with smtplib.SMTP("localhost", tls_sink.port) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        code, _ = client.starttls(context=strict_context(tls_sink))
        assert code == statuscodes.READY_TO_START_TLS
        client.sendmail("app@example.com", ["user@example.com"], MESSAGE)
    [message] = tls_sink.wait_for(count=1)
    assert message.subject == "secret"


def test_starttls_is_not_offered_again_after_the_handshake(tls_sink: Sink) -> None:
    with smtplib.SMTP("localhost", tls_sink.port) as client:
        client.starttls(context=tls_sink.client_tls_context())
        client.ehlo()
        assert not client.has_extn("starttls")


def test_session_records_tls_version_and_cipher(tls_sink: Sink) -> None:
    with smtplib.SMTP("localhost", tls_sink.port) as client:
        client.starttls(context=tls_sink.client_tls_context())
        client.noop()
        version = client.sock.version()  # type: ignore[union-attr]
        cipher = client.sock.cipher()[0]  # type: ignore[union-attr]
    session = shapes.session(last_session(tls_sink))
    assert session["tls"] == {"version": version, "cipher": cipher}


def test_session_without_tls_has_no_tls_field(tls_sink: Sink) -> None:
    with smtplib.SMTP("localhost", tls_sink.port) as client:
        client.noop()
    assert shapes.session(last_session(tls_sink))["tls"] is None


def test_auth_over_starttls_names_the_inbox(tls_sink: Sink) -> None:
    with smtplib.SMTP("localhost", tls_sink.port) as client:
        client.starttls(context=tls_sink.client_tls_context())
        code, _ = client.login("alice", "secret")
        assert code == statuscodes.AUTH_OK
        client.sendmail("app@example.com", ["user@example.com"], MESSAGE)
    [message] = tls_sink.wait_for(count=1)
    assert message.inbox == "alice"


def test_aiosmtplib_over_implicit_tls_with_auth(tls_sink: Sink) -> None:
    async def send() -> None:
        client = aiosmtplib.SMTP(
            hostname="localhost",
            port=tls_sink.smtps_port,
            use_tls=True,
            tls_context=strict_context(tls_sink),
        )
        async with client:
            assert not client.supports_extension("starttls")
            response = await client.login("bob", "secret")
            assert response.code == statuscodes.AUTH_OK
            await client.sendmail("app@example.com", ["user@example.com"], MESSAGE)

    asyncio.run(send())
    [message] = tls_sink.wait_for(count=1)
    assert message.inbox == "bob"
    session = last_session(tls_sink)
    assert session.tls_version is not None and session.auth_user == "bob"


@pytest.mark.parametrize("mode", ["--tls", "--tls-on-connect"])
def test_swaks_delivers_over_tls_with_auth(tls_sink: Sink, mode: str) -> None:
    port = tls_sink.port if mode == "--tls" else tls_sink.smtps_port
    result = subprocess.run(
        ["swaks", "--server", "localhost", "--port", str(port), mode, "--tls-verify",
         "--tls-ca-path", str(tls_sink.tls_cert), "--auth", "PLAIN", "--auth-user", "carol",
         "--auth-password", "pw", "--from", "a@example.com", "--to", "b@example.com",
         "--header", "Subject: from swaks"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    [message] = tls_sink.wait_for(count=1)
    assert (message.subject, message.inbox) == ("from swaks", "carol")


def test_client_that_does_not_trust_the_certificate_fails_verification(tls_sink: Sink) -> None:
    with smtplib.SMTP("localhost", tls_sink.port) as client:
        with pytest.raises(ssl.SSLCertVerificationError):
            client.starttls(context=ssl.create_default_context())


@pytest.mark.parametrize(
    ("command", "arg"),
    [
        ("MAIL", "FROM:<a@example.com>"),
        ("AUTH", "PLAIN AGFsaWNlAHB3"),
        # RFC 3207 §4: every command but EHLO, NOOP, STARTTLS and QUIT is refused.
        ("RCPT", "TO:<b@example.com>"),
        ("RSET", ""),
        ("VRFY", "b@example.com"),
    ],
)
def test_require_tls_refuses_command_before_starttls(
    make_sink: MakeSink, command: str, arg: str
) -> None:
    sink = make_sink(tls_self_signed=True, require_tls=True)
    with smtplib.SMTP("localhost", sink.port) as client:
        client.ehlo()
        code, text = client.docmd(command, arg)
    assert f"{code} {text.decode()}" == statuscodes.MUST_STARTTLS


def test_require_tls_refuses_helo_which_cannot_lead_to_starttls(make_sink: MakeSink) -> None:
    sink = make_sink(tls_self_signed=True, require_tls=True)
    with smtplib.SMTP("localhost", sink.port) as client:
        code, _ = client.helo("client.example")
    assert code == statuscodes.TLS_REQUIRED  # a HELO reply carries no enhanced code


@pytest.mark.parametrize("command", ["EHLO", "NOOP"])
def test_require_tls_allows_command_before_starttls(make_sink: MakeSink, command: str) -> None:
    sink = make_sink(tls_self_signed=True, require_tls=True)
    with smtplib.SMTP("localhost", sink.port) as client:
        code, _ = client.docmd(command, "client.example" if command == "EHLO" else "")
    assert code == statuscodes.OK


def test_require_tls_does_not_offer_auth_before_starttls(make_sink: MakeSink) -> None:
    sink = make_sink(tls_self_signed=True, require_tls=True)
    with smtplib.SMTP("localhost", sink.port) as client:
        client.ehlo()
        assert not client.has_extn("auth")
        client.starttls(context=sink.client_tls_context())
        client.ehlo()
        assert client.has_extn("auth")


def test_require_tls_accepts_mail_after_starttls(make_sink: MakeSink) -> None:
    sink = make_sink(tls_self_signed=True, require_tls=True)
    with smtplib.SMTP("localhost", sink.port) as client:
        client.starttls(context=sink.client_tls_context())
        client.login("dave", "pw")
        client.sendmail("app@example.com", ["user@example.com"], MESSAGE)
    assert sink.wait_for(count=1)[0].inbox == "dave"


def test_require_tls_accepts_mail_over_implicit_tls(make_sink: MakeSink) -> None:
    sink = make_sink(tls_self_signed=True, require_tls=True, smtps=Address("127.0.0.1", 0))
    context = sink.client_tls_context()
    with smtplib.SMTP_SSL("localhost", sink.smtps_port, context=context) as client:
        client.login("frank", "pw")
        client.sendmail("app@example.com", ["user@example.com"], MESSAGE)
    assert sink.wait_for(count=1)[0].inbox == "frank"


def test_auth_before_starttls_is_forgotten_after_it(tls_sink: Sink) -> None:
    with smtplib.SMTP("localhost", tls_sink.port) as client:
        client.login("before", "pw")
        client.starttls(context=tls_sink.client_tls_context())
        client.sendmail("app@example.com", ["user@example.com"], MESSAGE)
    [message] = tls_sink.wait_for(count=1)
    assert message.inbox == "default"  # RFC 3207 §4.2
    assert last_session(tls_sink).auth_user is None


def test_auth_over_plain_text_is_allowed_by_default(tls_sink: Sink) -> None:
    with smtplib.SMTP("localhost", tls_sink.port) as client:
        code, _ = client.login("erin", "pw")
    assert code == statuscodes.AUTH_OK


def test_auth_require_tls_refuses_auth_over_plain_text(make_sink: MakeSink) -> None:
    sink = make_sink(tls_self_signed=True, auth_require_tls=True)
    with smtplib.SMTP("localhost", sink.port) as client:
        client.ehlo()
        assert not client.has_extn("auth")
        code, text = client.docmd("AUTH", "PLAIN AGVyaW4AcHc=")
        assert code == statuscodes.ENCRYPTION_REQUIRED, text
        client.sendmail("app@example.com", ["user@example.com"], MESSAGE)  # mail still works
        client.starttls(context=sink.client_tls_context())
        code, _ = client.login("erin", "pw")
        assert code == statuscodes.AUTH_OK


def test_self_signed_certificate_is_kept_next_to_the_database(tmp_path: Path) -> None:
    config = Config(smtp=Address("127.0.0.1", 0), tls_self_signed=True)
    with Sink(config, db=tmp_path / "mail.db") as sink:
        first = sink.tls_cert
        pem = first.read_bytes()
    with Sink(config, db=tmp_path / "mail.db") as sink:
        assert sink.tls_cert == first == tmp_path / "mail-cert.pem"
        assert sink.tls_cert.read_bytes() == pem  # generated once, then reused


def test_temporary_certificate_directory_is_removed_at_stop(tls_sink: Sink) -> None:
    directory = tls_sink.tls_cert.parent
    assert directory.is_dir()
    tls_sink.stop()
    assert not directory.exists()


def test_user_certificate_and_key_are_used(tmp_path: Path, make_sink: MakeSink) -> None:
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    write_self_signed(cert, key)
    sink = make_sink(tls_cert=cert, tls_key=key)
    with smtplib.SMTP("localhost", sink.port) as client:
        client.starttls(context=client_context(cert))
        assert client.noop()[0] == statuscodes.OK
    assert sink.tls_cert == cert


def test_sink_refuses_require_tls_without_a_certificate() -> None:
    sink = Sink(Config(smtp=Address("127.0.0.1", 0), require_tls=True))
    with pytest.raises(ConfigError, match="--require-tls needs a certificate"):
        sink.start()
    with pytest.raises(RuntimeError, match="not running"):
        sink.server  # noqa: B018


def _start_cli(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], dict]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mailtrap_lite", *args],
        stdout=subprocess.PIPE, text=True, env={**os.environ, **env},
    )  # fmt: skip
    assert process.stdout is not None
    lines = {}
    while "db" not in lines:
        name, _, value = process.stdout.readline().strip().partition(": ")
        assert name, "the server stopped before printing its addresses"
        lines[name] = value
    return process, lines


def _stop_cli(process: subprocess.Popen[str]) -> None:
    process.terminate()
    assert process.wait(timeout=10) == 0
    assert process.stdout is not None
    process.stdout.close()


@pytest.fixture
def cli_server(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Run the command line with a self-signed certificate; yield its start-up lines."""
    args = ["--smtp", "127.0.0.1:0", "--smtps", "127.0.0.1:0", "--http", "off",
            "--db", str(tmp_path / "mail.db"), "--tls-self-signed"]  # fmt: skip
    process, lines = _start_cli(args, {})
    yield lines
    _stop_cli(process)


def test_cli_reads_tls_settings_from_the_environment(tmp_path: Path) -> None:
    env = {"MAILTRAP_LITE_TLS_SELF_SIGNED": "1", "MAILTRAP_LITE_REQUIRE_TLS": "1",
           "MAILTRAP_LITE_SMTPS": "127.0.0.1:0"}  # fmt: skip
    args = ["--smtp", "127.0.0.1:0", "--http", "off", "--db", str(tmp_path / "mail.db")]
    process, lines = _start_cli(args, env)
    try:
        host, _, port = lines["smtp"].rpartition(":")
        with smtplib.SMTP(host, int(port)) as client:
            client.ehlo()
            code, _ = client.mail("app@example.com")
        assert code == statuscodes.TLS_REQUIRED
        assert Path(lines["tls-cert"]).is_file() and "smtps" in lines
    finally:
        _stop_cli(process)


def test_cli_prints_certificate_and_smtps_address(cli_server: dict[str, str]) -> None:
    cert = Path(cli_server["tls-cert"])
    host, _, port = cli_server["smtps"].rpartition(":")
    assert cert.name == "mail-cert.pem"
    with smtplib.SMTP_SSL("localhost", int(port), context=client_context(cert)) as client:
        assert client.noop()[0] == statuscodes.OK
    assert host == "127.0.0.1"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--require-tls"], "--require-tls needs a certificate"),
        (["--smtps", "127.0.0.1:0"], "--smtps needs a certificate"),
        (["--auth-require-tls"], "--auth-require-tls needs a certificate"),
        (["--tls-cert", "x.pem"], "--tls-cert and --tls-key go together"),
        (["--tls-cert", "missing.pem", "--tls-key", "missing.key"], "cannot read TLS file"),
    ],
)
def test_cli_refuses_unusable_tls_settings(tmp_path: Path, flags: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mailtrap_lite", "--smtp", "127.0.0.1:0", "--http", "off",
         "--db", ":memory:", *flags],
        capture_output=True, text=True, timeout=30, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
