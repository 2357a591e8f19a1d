"""The captured message: envelope, headers, decoded parts, links, codes, attachments, session."""

from __future__ import annotations

import datetime as dt
import smtplib
from email.message import EmailMessage

import pytest

from mailtrap_lite.testing.captured import ExtractionError
from mailtrap_lite.testing.view import SinkView

RESET = "https://app.example.com/reset?token=abc123&user=42&lang=de-DE&next=%2Fhome%2Fsettings"


def send(sink: SinkView, message: EmailMessage | bytes, to: list[str] | None = None) -> None:
    with smtplib.SMTP(sink.host, sink.port) as client:
        if isinstance(message, bytes):
            client.sendmail("app@example.com", to or ["user@example.com"], message)
        else:
            client.send_message(message, to_addrs=to)


def mail(text: str | None = None, html: str | None = None, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = headers.pop("from_", "App <app@example.com>")
    message["To"] = headers.pop("to", "User <user@example.com>")
    message["Subject"] = headers.pop("subject", "Hello")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    if text is not None:
        message.set_content(text, cte="quoted-printable")
    if html is not None:
        if text is None:
            message.set_content(html, subtype="html", cte="quoted-printable")
        else:
            message.add_alternative(html, subtype="html", cte="quoted-printable")
    return message


def test_link_survives_quoted_printable_soft_breaks_and_equals_signs(smtp_sink: SinkView) -> None:
    send(smtp_sink, mail(text=f"Reset your password: {RESET}\n"))
    message = smtp_sink.wait_for()
    assert b"=3D" in message.raw and b"=\r\n" in message.raw  # the wire form really is split
    assert message.link() == RESET


def test_link_in_href_has_html_entities_decoded(smtp_sink: SinkView) -> None:
    href = RESET.replace("&", "&amp;")
    send(smtp_sink, mail(html=f'<p><a href="{href}">Reset</a></p>'))
    assert smtp_sink.wait_for().link() == RESET


def test_links_are_deduplicated_hrefs_first(smtp_sink: SinkView) -> None:
    html = '<a href="https://a.example/x">x</a> <a href="mailto:me@example.com">me</a>'
    text = "See https://a.example/x and (https://b.example/y)."
    send(smtp_sink, mail(text=text, html=html))
    assert smtp_sink.wait_for().links() == ["https://a.example/x", "https://b.example/y"]


def test_link_contains_picks_the_one_link(smtp_sink: SinkView) -> None:
    send(smtp_sink, mail(text="https://a.example/unsubscribe\nhttps://a.example/confirm/9\n"))
    assert smtp_sink.wait_for().link(contains="confirm") == "https://a.example/confirm/9"


def test_link_fails_listing_candidates_when_several(smtp_sink: SinkView) -> None:
    send(smtp_sink, mail(text="https://a.example/one https://a.example/two"))
    message = smtp_sink.wait_for()
    with pytest.raises(ExtractionError) as failure:
        message.link()
    assert "found 2" in str(failure.value)
    assert "https://a.example/one" in str(failure.value)
    assert "https://a.example/two" in str(failure.value)


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Your code is 482913.", ["482913"]),
        ("Code: 4829 (valid until 2026-11-26 10:45)", ["4829"]),
        ("Total $1999, order #20391, code 773311", ["773311"]),
        ("© 2026 Example Ltd. Use 55501 to sign in.", ["55501"]),
        ("Send 1234 or 1234 again, then 98765", ["1234", "98765"]),
        ("No digits here, only 123 and 123456789", []),
    ],
)
def test_codes_default_pattern_skips_dates_prices_and_years(
    smtp_sink: SinkView, text: str, codes: list[str]
) -> None:
    send(smtp_sink, mail(text=text))
    assert smtp_sink.wait_for().codes() == codes


def test_code_reads_the_html_text_when_there_is_no_text_part(smtp_sink: SinkView) -> None:
    send(smtp_sink, mail(html="<p>Your code: <b>918273</b></p>"))
    assert smtp_sink.wait_for().code() == "918273"


def test_code_with_a_group_returns_the_group(smtp_sink: SinkView) -> None:
    send(smtp_sink, mail(text="Ticket 2024, token: AB-77X9"))
    assert smtp_sink.wait_for().code(r"token: ([A-Z0-9-]+)") == "AB-77X9"


def test_code_fails_listing_candidates(smtp_sink: SinkView) -> None:
    send(smtp_sink, mail(text="either 111111 or 222222"))
    with pytest.raises(ExtractionError, match="111111\n  222222"):
        smtp_sink.wait_for().code()


def test_body_contains_looks_at_text_and_html(smtp_sink: SinkView) -> None:
    send(smtp_sink, mail(text="plain words", html="<p>Fish &amp; chips</p>"))
    message = smtp_sink.wait_for()
    assert message.body_contains("plain words")
    assert message.body_contains("Fish & chips")
    assert message.body_contains("<p>Fish")
    assert not message.body_contains("absent")


def test_attachments_are_decoded_with_name_and_type(smtp_sink: SinkView) -> None:
    message = mail(text="see attached")
    message.add_attachment(b"\x00\x01binary", maintype="application", subtype="pdf",
                           filename="invoice.pdf")  # fmt: skip
    send(smtp_sink, message)
    [attachment] = smtp_sink.wait_for().attachments
    assert (attachment.filename, attachment.content_type) == ("invoice.pdf", "application/pdf")
    assert attachment.data == b"\x00\x01binary"


def test_bcc_is_the_envelope_recipient_missing_from_to_and_cc(smtp_sink: SinkView) -> None:
    message = mail(text="hi", to="User <user@example.com>", Cc="cc@example.com")
    send(smtp_sink, message, to=["user@example.com", "cc@example.com", "hidden@example.com"])
    captured = smtp_sink.wait_for()
    assert captured.bcc == ["hidden@example.com"]
    assert (captured.to, captured.cc) == (["user@example.com"], ["cc@example.com"])


def test_header_fields_are_plain_addresses_and_names_stay_in_headers(smtp_sink: SinkView) -> None:
    send(smtp_sink, mail(text="hi", Reply_To="Help <help@example.com>", Message_ID="<m1@x>"))
    message = smtp_sink.wait_for()
    assert (message.from_, message.mail_from) == ("app@example.com", "app@example.com")
    assert message.reply_to == ["help@example.com"]
    assert message.message_id == "<m1@x>"
    assert message.headers["From"].addresses[0].display_name == "App"
    assert message.headers.get_content_type() == "text/plain"


def test_date_is_an_aware_utc_datetime(smtp_sink: SinkView) -> None:
    send(smtp_sink, mail(text="hi", Date="Thu, 26 Nov 2026 10:00:00 +0100"))
    assert smtp_sink.wait_for().date == dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


def test_raw_is_the_exact_bytes_and_warnings_list_what_is_missing(smtp_sink: SinkView) -> None:
    raw = b"Subject: bare\r\n\r\nno date, no id\r\n"
    send(smtp_sink, raw)
    message = smtp_sink.wait_for()
    assert message.raw == raw
    assert [w.code for w in message.warnings] == ["missing-date", "missing-message-id"]


def test_session_gives_the_smtp_transcript(smtp_sink: SinkView) -> None:
    send(smtp_sink, mail(text="hi"))
    session = smtp_sink.wait_for().session
    lines = [entry.line.lower() for entry in session.transcript or []]
    assert any(line.startswith("mail from:<app@example.com>") for line in lines)
    assert "data" in lines


def test_non_ascii_recipient_is_matched_with_smtputf8(smtp_sink: SinkView) -> None:
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as client:
        client.sendmail("app@example.com", ["jürgen@bücher.example"],
                        b"Subject: utf8\r\n\r\nHallo\r\n", mail_options=["SMTPUTF8"])  # fmt: skip
    message = smtp_sink.wait_for(to="JÜRGEN@bücher.example")
    assert message.rcpt_to == ["jürgen@bücher.example"]
