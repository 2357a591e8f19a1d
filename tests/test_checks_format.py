"""Format checks: From, Message-ID, Date, MIME-Version, transfer encodings, raw lines."""

from __future__ import annotations

import datetime as dt
import email.utils

import pytest

from mailtrap_lite.checks import CheckedMail
from mailtrap_lite.checks.formatting import structure_checks
from mailtrap_lite.message import Message
from mailtrap_lite.testing import Sink
from tests.checkmail import check_bytes, clean_message, crlf, found, status
from tests.wire import greet, send_data

HEAD = (b"From: Shop <hello@shop.example.com>\r\nTo: ada@example.org\r\nSubject: hi\r\n"
        b"Date: " + email.utils.format_datetime(dt.datetime.now(dt.UTC)).encode() + b"\r\n"
        b"Message-ID: <1@shop.example.com>\r\n")  # fmt: skip


def _without(header: bytes) -> bytes:
    return b"".join(line + b"\r\n" for line in HEAD.split(b"\r\n")[:-1]
                    if not line.lower().startswith(header.lower() + b":"))  # fmt: skip


def test_clean_message_passes_every_format_check() -> None:
    report = check_bytes(crlf(clean_message()))
    format_checks = [c for c in report.checks if c.category == "format"]
    assert {c.status for c in format_checks} <= {"pass", "info"}
    assert report.summary["fail"] == 0


@pytest.mark.parametrize(
    ("from_lines", "expected"),
    [
        (b"From: Shop <hello@shop.example.com>\r\n", "pass: From address is valid"),
        (b"", "fail: No From header"),
        (b"From: a@shop.example.com, b@shop.example.com\r\n", "fail: More than one From address"),
        (b"From: a@shop.example.com\r\nFrom: b@shop.example.com\r\n",
         "fail: More than one From address"),
        (b"From: Shop\r\n", "fail: From address is not valid"),
        (b"From: <hello@localhost>\r\n", "fail: From address is not valid"),
    ],
)  # fmt: skip
def test_from_needs_exactly_one_valid_address(from_lines: bytes, expected: str) -> None:
    raw = from_lines + _without(b"From") + b"\r\nbody\r\n"
    [result] = found(check_bytes(raw), "format.from")
    assert result.startswith(expected)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (b"Message-ID: <1@shop.example.com>\r\n", "pass"),
        (b"", "fail: No Message-ID header"),
        (b"Message-ID: 1@shop.example.com\r\n", "fail: Message-ID is malformed"),
        (b"Message-ID: <no-at-sign>\r\n", "fail: Message-ID is malformed"),
        (b"Message-ID: <1@a.example>\r\nMessage-ID: <2@a.example>\r\n",
         "fail: More than one Message-ID header"),
    ],
)  # fmt: skip
def test_message_id_must_be_one_and_well_formed(lines: bytes, expected: str) -> None:
    raw = _without(b"Message-ID") + lines + b"\r\nbody\r\n"
    [result] = found(check_bytes(raw), "format.message-id")
    assert result.startswith(expected)


def _date(delta: dt.timedelta) -> bytes:
    return b"Date: " + email.utils.format_datetime(dt.datetime.now(dt.UTC) + delta).encode()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (_date(dt.timedelta(minutes=-5)), "pass: Date is valid"),
        (_date(dt.timedelta(minutes=30)), "pass: Date is valid"),  # clocks drift
        (_date(dt.timedelta(hours=5)), "warn: Date is in the future"),
        (_date(dt.timedelta(days=-5)), "warn: Date is far in the past"),
        (b"Date: yesterday", "fail: Date is not valid"),
        (None, "fail: No Date header"),
    ],
    ids=["5 minutes ago", "30 minutes ahead", "5 hours ahead", "5 days ago", "unreadable",
         "missing"],
)  # fmt: skip
def test_date_must_be_valid_and_near_the_arrival(line: bytes | None, expected: str) -> None:
    raw = _without(b"Date") + (line + b"\r\n" if line else b"") + b"\r\nbody\r\n"
    [result] = found(check_bytes(raw), "format.date")
    assert result.startswith(expected)


def test_date_is_judged_against_the_arrival_not_the_check(sink: Sink) -> None:
    with greet(sink.host, sink.port) as wire:
        send_data(wire, HEAD + b"\r\nbody\r\n.\r\n")
    [message] = sink.wait_for()
    assert status(message.checks(), "format.date") == "pass"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n", "pass"),
        (b"Content-Type: text/plain; charset=utf-8\r\n", "warn: MIME used without MIME-Version"),
        (b"MIME-Version: 2.0\r\nContent-Type: text/plain\r\n", "warn: MIME-Version is not 1.0"),
        (b"MIME-Version: 1.0 (produced by hand)\r\nContent-Type: text/plain\r\n", "pass"),
        (b"", "info: Not a MIME message"),
    ],
)
def test_mime_version_is_needed_where_mime_is_used(head: bytes, expected: str) -> None:
    [result] = found(check_bytes(HEAD + head + b"\r\nbody\r\n"), "format.mime-version")
    assert result.startswith(expected)


def _part(encoding: bytes, body: bytes) -> bytes:
    return (HEAD + b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: " + encoding + b"\r\n\r\n" + body)  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (_part(b"7bit", b"plain\r\n"), "pass"),
        (_part(b"8bit", "café\r\n".encode()), "pass"),
        (_part(b"7bit", "café\r\n".encode()), "warn: Transfer encoding does not match"),
        (_part(b"base64", b"Y2Fm*w==\r\n"), "warn: Transfer encoding does not match"),
        (_part(b"x-uuencode", b"begin 644 a\r\n"), "warn: Transfer encoding does not match"),
        (_part(b"quoted-printable", b"a" * 80 + b"\r\n"), "info: Quoted-printable lines over 76"),
        (_part(b"quoted-printable", "caf\u00e9\r\n".encode()),
         "warn: Transfer encoding does not match"),
        (HEAD + b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n"
         b"Content-Transfer-Encoding: base64\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
         "warn: Transfer encoding does not match"),
    ],
    ids=["7bit", "8bit", "7bit holding 8-bit", "bad base64", "unknown", "long qp lines",
         "8-bit in qp", "encoded multipart"],
)  # fmt: skip
def test_transfer_encoding_must_match_the_content(raw: bytes, expected: str) -> None:
    [result] = found(check_bytes(raw), "format.transfer-encoding")
    assert result.startswith(expected)


def test_long_lines_fail_with_the_rfc_limit() -> None:
    raw = HEAD + b"\r\n" + b"x" * 1200 + b"\r\n"
    report = check_bytes(raw)
    [result] = found(report, "format.line-length")
    assert result.startswith("fail: Lines longer than 998 octets") and "longest 1200" in result
    assert [c.reference for c in report.checks if c.id == "format.line-length"] == [
        "RFC 5322 §2.1.1; RFC 5321 §4.5.3.1.6"
    ]


def test_nul_bytes_fail() -> None:
    assert status(check_bytes(HEAD + b"\r\nnul\x00here\r\n"), "format.nul") == "fail"


def test_mixed_line_endings_in_a_file_warn() -> None:
    [result] = found(check_bytes(HEAD + b"\r\none\ntwo\r\n"), "format.line-endings")
    assert result.startswith("warn: Bare CR or LF line endings")


def test_a_file_with_lf_line_ends_is_read_as_sent_with_crlf() -> None:
    raw = HEAD.replace(b"\r\n", b"\n") + b"\nbody\n"
    assert status(check_bytes(raw), "format.line-endings") == "pass"


def test_the_server_warnings_and_the_checks_agree(sink: Sink) -> None:
    with greet(sink.host, sink.port) as wire:
        send_data(wire, HEAD + b"\r\none\ntwo\r\n" + b"y" * 1500 + b"\r\n.\r\n")
    [message] = sink.wait_for()
    assert sorted(w.code for w in message.warnings) == ["bare-line-ending", "long-line"]
    report = message.checks()
    assert status(report, "format.line-endings") == "warn"
    assert status(report, "format.line-length") == "fail"
    assert status(report, "format.nul") == "pass"


def test_unreadable_mime_structure_fails() -> None:
    # The read model keeps the headers and the reason when the email package gives up.
    unreadable = Message(size=10, headers=[("From", "a@shop.example.com")],
                         parse_error="HeaderParseError: expected a boundary")  # fmt: skip
    mail = CheckedMail.of(b"From: a@shop.example.com\r\n\r\n", unreadable, dt.datetime.now(dt.UTC))
    [result] = structure_checks(mail)
    assert (result.id, result.status) == ("format.structure", "fail")
    assert "expected a boundary" in result.detail


def test_readable_mime_structure_adds_no_check() -> None:
    assert "format.structure" not in {c.id for c in check_bytes(crlf(clean_message())).checks}
