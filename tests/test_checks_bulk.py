"""Bulk-sender rules (Gmail and Yahoo, Feb 2024; RFC 8058): when they apply, what they need."""

from __future__ import annotations

import smtplib

import pytest

from tests.apiserver import send_mail
from tests.checkmail import (
    SIGNED,
    UNSUBSCRIBE,
    check_bytes,
    clean_message,
    crlf,
    found,
    keys_for,
    sign,
    status,
)

ONE_CLICK = {
    "List_Unsubscribe": "<https://shop.example.com/u/42>, <mailto:u@shop.example.com>",
    "List_Unsubscribe_Post": "List-Unsubscribe=One-Click",
}


def _bulk(report) -> dict[str, str]:
    return {c.id: c.status for c in report.checks if c.category == "bulk"}


def test_transactional_mail_is_not_held_to_the_bulk_rules() -> None:
    report = check_bytes(crlf(clean_message()))
    assert list(_bulk(report)) == ["bulk.applies"]
    assert found(report, "bulk.applies")[0].startswith("info: Not bulk mail")


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"List_Id": "<news.shop.example.com>"}, "it has a List-Id header"),
        ({"List_Unsubscribe": "<https://shop.example.com/u/1>"}, "List-Unsubscribe header"),
        ({"Precedence": "bulk"}, "Precedence: bulk"),
    ],
)
def test_list_headers_make_mail_bulk(headers: dict[str, str], reason: str) -> None:
    report = check_bytes(crlf(clean_message(**headers)))
    [applies] = found(report, "bulk.applies")
    assert applies.startswith("info: Looks like bulk mail") and reason in applies
    assert sorted(_bulk(report)) == ["bulk.applies", "bulk.list-unsubscribe", "bulk.one-click",
                                     "bulk.unsubscribe-signed"]  # fmt: skip


def test_signed_one_click_unsubscribe_meets_every_bulk_rule() -> None:
    signed = sign(crlf(clean_message(**ONE_CLICK)), headers=SIGNED + UNSUBSCRIBE)
    report = check_bytes(signed, keys_for())
    assert _bulk(report) == {"bulk.list-unsubscribe": "pass", "bulk.one-click": "pass",
                             "bulk.unsubscribe-signed": "pass", "bulk.applies": "info"}  # fmt: skip
    assert report.summary["fail"] == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<mailto:u@shop.example.com>", "fail: List-Unsubscribe has no https URI"),
        ("<http://shop.example.com/u/1>", "fail: List-Unsubscribe has no https URI"),
        ("https://shop.example.com/u/1", "fail: List-Unsubscribe has no https URI"),  # no <>
        ("<https://shop.example.com/u/1>", "pass: List-Unsubscribe has an https URI"),
    ],
)
def test_list_unsubscribe_needs_an_https_uri(value: str, expected: str) -> None:
    headers = {**ONE_CLICK, "List_Unsubscribe": value}
    [result] = found(check_bytes(crlf(clean_message(**headers))), "bulk.list-unsubscribe")
    assert result.startswith(expected)


def test_bulk_mail_without_list_unsubscribe_fails() -> None:
    report = check_bytes(crlf(clean_message(Precedence="bulk")))
    assert status(report, "bulk.list-unsubscribe") == "fail"
    assert status(report, "bulk.one-click") == "fail"


@pytest.mark.parametrize("post", [None, "List-Unsubscribe=Yes", "list-unsubscribe=one-click"])
def test_one_click_needs_the_exact_post_header(post: str | None) -> None:
    headers = {"List_Unsubscribe": ONE_CLICK["List_Unsubscribe"]}
    if post is not None:
        headers["List_Unsubscribe_Post"] = post
    [result] = found(check_bytes(crlf(clean_message(**headers))), "bulk.one-click")
    assert result.startswith("fail: No List-Unsubscribe-Post: List-Unsubscribe=One-Click")


def test_unsubscribe_headers_outside_the_signature_fail() -> None:
    signed = sign(crlf(clean_message(**ONE_CLICK)))  # signs From, To, Subject, Date, Message-ID
    [result] = found(check_bytes(signed, keys_for()), "bulk.unsubscribe-signed")
    assert result.startswith("fail: Unsubscribe headers not validly signed")
    assert "No DKIM signature covers both" in result


def test_unsubscribe_headers_under_a_broken_signature_fail() -> None:
    signed = sign(crlf(clean_message(**ONE_CLICK)), headers=SIGNED + UNSUBSCRIBE)
    tampered = signed.replace(b"/u/42", b"/u/43")
    [result] = found(check_bytes(tampered, keys_for()), "bulk.unsubscribe-signed")
    assert "does not verify" in result and result.startswith("fail:")


def test_unsubscribe_headers_signed_with_an_unknown_key_are_info() -> None:
    signed = sign(crlf(clean_message(**ONE_CLICK)), headers=SIGNED + UNSUBSCRIBE)
    assert status(check_bytes(signed), "bulk.unsubscribe-signed") == "info"


def test_many_recipients_in_one_session_make_mail_bulk(sink) -> None:
    recipients = [f"user{n}@example.org" for n in range(50)]
    with smtplib.SMTP(sink.host, sink.port) as client:
        for start in range(0, 50, 10):  # five messages of ten recipients, one session
            client.sendmail("news@shop.example.com", recipients[start : start + 10],
                            crlf(clean_message()))  # fmt: skip
    messages = sink.wait_for(count=5)
    [applies] = found(messages[-1].checks(), "bulk.applies")
    assert "its SMTP session addressed 50 recipients" in applies
    assert status(messages[-1].checks(), "bulk.list-unsubscribe") == "fail"


def test_a_few_recipients_do_not_make_mail_bulk(sink) -> None:
    send_mail(sink, crlf(clean_message()), to=[f"user{n}@example.org" for n in range(5)])
    [message] = sink.wait_for()
    assert found(message.checks(), "bulk.applies")[0].startswith("info: Not bulk mail")
