"""Content checks: HTML size, text alternative, images, links, unreplaced placeholders."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from tests.apiserver import send_mail
from tests.checkmail import check_bytes, clean_message, crlf, found, status


def _html_message(html: str, text: str | None = "Hello Ada, your order has shipped.") -> bytes:
    message = clean_message()
    message.clear_content()
    if text is not None:
        message.set_content(text)
        message.add_alternative(html, subtype="html")
    else:
        message.set_content(html, subtype="html")
    return crlf(message)


def _text_message(text: str, subject: str = "Your order has shipped") -> bytes:
    message = clean_message(Subject=subject)
    message.clear_content()
    message.set_content(text)
    return crlf(message)


PROSE = "<p>" + "Your order has shipped and is on its way to you. " * 12 + "</p>"


def test_clean_message_passes_every_content_check() -> None:
    report = check_bytes(crlf(clean_message()))
    assert {c.status for c in report.checks if c.category == "content"} <= {"pass", "info"}


@pytest.mark.parametrize(
    ("kilobytes", "expected"),
    [(50, "pass: HTML under 102 KB"), (95, "warn: HTML close to Gmail"), (110, "fail: HTML over")],
)
def test_html_over_102_kb_fails_because_gmail_clips_it(kilobytes: int, expected: str) -> None:
    paragraph = "<p>" + "word " * 203 + "</p>\n"  # 1 KB
    html = "<html><body>" + paragraph * kilobytes + "</body></html>"
    [result] = found(check_bytes(_html_message(html)), "content.html-size")
    assert result.startswith(expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (crlf(clean_message()), "pass: HTML with a plain-text alternative"),
        (_html_message(PROSE, text=None), "warn: No plain-text alternative"),
        (_html_message(PROSE, text="   \n"), "warn: The plain-text alternative is empty"),
        (_text_message("Just text."), "pass: Plain text"),
    ],
    ids=["html and text", "html only", "empty text", "text only"],
)
def test_html_needs_a_plain_text_alternative(raw: bytes, expected: str) -> None:
    [result] = found(check_bytes(raw), "content.text-alternative")
    assert result.startswith(expected)


@pytest.mark.parametrize(
    ("images", "expected"),
    [
        ('<img src="https://shop.example.com/logo.png" alt="Shop">', "pass"),
        ('<img src="https://shop.example.com/logo.png" alt="">', "pass"),  # decorative
        ('<img src="https://shop.example.com/logo.png">', "warn: 1 image(s) without alt text"),
        ('<img src="https://t.example.com/o.gif" width="1" height="1">', "info: No images"),
        ("", "info: No images"),
    ],
)
def test_images_need_alt_text_except_tracking_pixels(images: str, expected: str) -> None:
    [result] = found(check_bytes(_html_message(PROSE + images)), "content.image-alt")
    assert result.startswith(expected)


def test_image_heavy_mail_with_little_text_warns() -> None:
    banner = '<img src="https://shop.example.com/sale.png" alt="Sale">'
    [result] = found(check_bytes(_html_message(banner + "<p>Sale!</p>")), "content.image-ratio")
    assert result.startswith("warn: Mostly images, little text")
    enough = check_bytes(_html_message(banner + PROSE))
    assert status(enough, "content.image-ratio") == "pass"


@pytest.mark.parametrize(
    ("anchor", "expected"),
    [
        ('<a href="https://shop.example.com/o/1">shop.example.com</a>', "pass"),
        ('<a href="https://links.shop.example.com/o/1">www.shop.example.com</a>', "pass"),
        ('<a href="https://evil.example.net/login">https://shop.example.com</a>',
         "warn: Link text names another domain"),
        ('<a href="https://click.esp.example.org/c/1">shop.example.com/orders</a>',
         "warn: Link text names another domain"),
        ('<a href="https://evil.example.net/">Track your order</a>', "pass"),  # not a domain
    ],
)  # fmt: skip
def test_link_text_naming_another_domain_warns(anchor: str, expected: str) -> None:
    [result] = found(check_bytes(_html_message(PROSE + anchor)), "content.link-text")
    assert result.startswith(expected)


def test_plain_http_links_warn() -> None:
    raw = _text_message("Track it: http://shop.example.com/orders/1 or https://shop.example.com/")
    [result] = found(check_bytes(raw), "content.http-links")
    assert result == "warn: 1 link(s) without https — http://shop.example.com/orders/1"


@pytest.mark.parametrize("url", ["https://192.0.2.10/reset", "http://127.0.0.1:8000/reset"])
def test_links_to_ip_addresses_warn(url: str) -> None:
    [result] = found(check_bytes(_text_message(f"Reset: {url}")), "content.ip-links")
    assert result.startswith("warn: 1 link(s) to an IP address") and url in result


def test_html_link_to_an_ipv6_address_warns() -> None:
    raw = _html_message('<a href="https://[2001:db8::1]/x">Reset</a>' + PROSE)
    assert status(check_bytes(raw), "content.ip-links") == "warn"


@pytest.mark.parametrize(
    ("text", "token"),
    [
        ("Hello {{ name }}, welcome!", "{{ name }}"),
        ("Hello {{user.first_name}}", "{{user.first_name}}"),
        ("{% if vip %}Gold{% endif %} member", "{% if vip %}"),
        ("Hello {name}, welcome!", "{name}"),
        ("Hello ${firstName}, welcome!", "${firstName}"),
        ("Dear %FIRSTNAME%, welcome!", "%FIRSTNAME%"),
        ("Hello [[name]], welcome!", "[[name]]"),
        ("Hello *|FNAME|*, welcome!", "*|FNAME|*"),
        ("Hello %(name)s, welcome!", "%(name)s"),
        ("Hello <%= @user.name %>, welcome!", "<%= @user.name %>"),
        ("Hello None, your order is ready.", "None"),
        ("Hello undefined, your order is ready.", "undefined"),
        ("Your total is null EUR.", "null"),
        ("Your total is NaN EUR.", "NaN"),
        ("Hello [object Object]!", "[object Object]"),
    ],
)
def test_unreplaced_placeholders_in_the_text_fail(text: str, token: str) -> None:
    [result] = found(check_bytes(_text_message(text)), "content.placeholders")
    assert result.startswith("fail: Unreplaced template placeholder")
    assert repr(token) in result and "in the text body" in result


@pytest.mark.parametrize(
    "text",
    [
        "None of your data leaves the country.",
        "Use code SAVE10 for 10% off, 20% for members.",
        "See https://shop.example.com/caf%C3%A9/%E2%9C%93 for details.",
        "Price: {not a placeholder} and {} braces.",
    ],
)
def test_ordinary_text_is_not_taken_for_a_placeholder(text: str) -> None:
    assert status(check_bytes(_text_message(text)), "content.placeholders") == "pass"


@pytest.mark.parametrize(
    ("where", "raw"),
    [
        ("subject", _text_message("Hi.", subject="Welcome, {{ first_name }}!")),
        ("HTML", _html_message("<p>Hello {{ name }}, welcome!</p>" + PROSE)),
        ("link", _text_message("Reset: https://shop.example.com/reset?token=None")),
        ("link", _text_message("Reset: https://shop.example.com/u/undefined/reset")),
        ("link", _html_message('<a href="https://shop.example.com/r/{{token}}">Reset</a>' + PROSE)),
        ("link", _text_message("Reset: https://shop.example.com/r/%7B%7Btoken%7D%7D")),
    ],
    ids=["subject", "html", "None in a query", "undefined in a path", "template in an href",
         "percent-encoded template"],
)  # fmt: skip
def test_placeholders_are_found_in_subject_html_and_link_targets(where: str, raw: bytes) -> None:
    [result] = found(check_bytes(raw), "content.placeholders")
    assert result.startswith("fail:") and f"in the {where}" in result


def test_placeholder_check_runs_on_captured_mail(sink) -> None:
    message = EmailMessage()
    message["From"] = "Shop <hello@shop.example.com>"
    message["To"] = "ada@example.org"
    message["Subject"] = "Welcome {{ name }}"
    message.set_content("Hello")
    send_mail(sink, message)
    [captured] = sink.wait_for()
    assert status(captured.checks(), "content.placeholders") == "fail"
