"""The filters of wait_for, assert_sent and assert_not_sent: to, from_, subject, contains..."""

from __future__ import annotations

import re
import smtplib
from typing import Any

import pytest

from mailtrap_lite.testing.view import SinkView

# (envelope sender, envelope recipients, header block, body); subjects name the messages.
MAILBAG = [
    ("bounce@app.example", ["Alice@Example.com"],
     "From: App <no-reply@app.example>\r\nTo: alice@example.com\r\nSubject: Welcome",
     "Hi Alice"),
    ("bounce@app.example", ["bob@example.com", "audit@example.com"],
     "From: App <no-reply@app.example>\r\nTo: bob@example.com\r\nSubject: Invoice 42"
     "\r\nX-Template: invoice\r\nContent-Type: text/html",
     "<p>Total &amp; taxes</p>"),
    ("ops@app.example", ["carol@example.com"],
     "From: ops@app.example\r\nTo: carol@example.com\r\nSubject: Welcome back",
     "Hi Carol"),
]  # fmt: skip


@pytest.fixture
def mailbag(smtp_sink: SinkView) -> SinkView:
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as client:
        for sender, recipients, headers, body in MAILBAG:
            client.sendmail(sender, recipients, f"{headers}\r\n\r\n{body}\r\n".encode())
    return smtp_sink


@pytest.mark.parametrize(
    ("filters", "subjects"),
    [
        ({}, ["Welcome", "Invoice 42", "Welcome back"]),
        ({"to": "alice@example.com"}, ["Welcome"]),
        ({"to": "ALICE@EXAMPLE.COM"}, ["Welcome"]),
        ({"to": "audit@example.com"}, ["Invoice 42"]),  # a Bcc: only in the envelope
        ({"to": "example.com"}, []),  # whole addresses, not substrings
        ({"from_": "no-reply@app.example"}, ["Welcome", "Invoice 42"]),  # the From header
        ({"from_": "bounce@app.example"}, ["Welcome", "Invoice 42"]),  # the envelope sender
        ({"from_": "ops@app.example"}, ["Welcome back"]),
        ({"subject": "Welcome"}, ["Welcome"]),  # a string must be equal
        ({"subject": re.compile(r"^Welcome")}, ["Welcome", "Welcome back"]),  # a regex searches
        ({"contains": "Carol"}, ["Welcome back"]),
        ({"contains": "Total & taxes"}, ["Invoice 42"]),  # the HTML's text, entities decoded
        ({"header": ("x-template", "invoice")}, ["Invoice 42"]),
        ({"header": ("X-Template", re.compile("inv"))}, ["Invoice 42"]),
        ({"where": lambda m: len(m.rcpt_to) == 2}, ["Invoice 42"]),
        ({"to": "bob@example.com", "subject": "Welcome"}, []),  # filters combine with AND
    ],
)
def test_filter_selects_messages(
    mailbag: SinkView, filters: dict[str, Any], subjects: list[str]
) -> None:
    assert [m.subject for m in mailbag.filter(**filters)] == subjects


@pytest.mark.parametrize(
    ("filters", "error"),
    [
        ({"to": ["a@example.com"]}, "to= takes a string"),
        ({"subject": 3}, "subject= takes a string"),
        ({"header": "X-Template: invoice"}, "header= takes a (name, value) tuple"),
        ({"where": "yes"}, "where= takes a callable"),
        ({"sender": "a@example.com"}, "unexpected keyword argument 'sender'"),
    ],
)
def test_bad_filter_is_a_type_error(
    smtp_sink: SinkView, filters: dict[str, Any], error: str
) -> None:
    with pytest.raises(TypeError, match=re.escape(error)):
        smtp_sink.filter(**filters)


def test_assert_sent_returns_the_one_match(mailbag: SinkView) -> None:
    assert mailbag.assert_sent(to="bob@example.com").subject == "Invoice 42"


def test_assert_sent_with_count_returns_the_list(mailbag: SinkView) -> None:
    found = mailbag.assert_sent(2, from_="no-reply@app.example")
    assert [m.subject for m in found] == ["Welcome", "Invoice 42"]


def test_assert_sent_fails_on_more_matches_than_expected(mailbag: SinkView) -> None:
    with pytest.raises(AssertionError, match="expected exactly 1 message .* found 2"):
        mailbag.assert_sent(subject=re.compile("Welcome"))


def test_assert_not_sent_fails_listing_the_match(mailbag: SinkView) -> None:
    with pytest.raises(AssertionError) as failure:
        mailbag.assert_not_sent(to="carol@example.com")
    assert "expected no message matching to='carol@example.com', found 1" in str(failure.value)
    assert "'Welcome back'" in str(failure.value)


def test_assert_not_sent_passes_when_nothing_matches(mailbag: SinkView) -> None:
    mailbag.assert_not_sent(to="dave@example.com")
