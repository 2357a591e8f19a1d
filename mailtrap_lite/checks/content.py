"""Content: what the recipient's mail client gets to show, and what filters hold against it.

Everything here is static: nothing a message links to or loads is ever fetched (SECURITY.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from mailtrap_lite.checks.links import link_checks
from mailtrap_lite.checks.mail import CheckedMail
from mailtrap_lite.checks.placeholders import Placeholder, find_in_url, find_placeholders
from mailtrap_lite.checks.report import FAIL, INFO, PASS, WARN, Check, check, listed
from mailtrap_lite.mime.htmltext import html_to_text

GMAIL_CLIP = 102 * 1024  # Gmail shows "[Message clipped]" past ~102 KB of HTML
NEAR_CLIP = 90 * 1024
IMAGE_TEXT = 400  # characters of text below which an HTML mail with images is "image only"


def content_checks(mail: CheckedMail) -> list[Check]:
    """Return the body checks: size, alternatives, images, links, placeholders."""
    html = mail.message.html
    images = html_images(html) if html else []
    visible = " ".join(html_to_text(html).split()) if html else ""
    return [
        html_size_check(html),
        text_alternative_check(mail),
        image_alt_check(images),
        image_ratio_check(images, visible),
        *link_checks(mail.message.links),
        placeholder_check(mail, visible),
    ]


def html_size_check(html: str | None) -> Check:
    """Check that the HTML stays under the size past which Gmail clips it."""
    ref = "Gmail clips HTML past ~102 KB (Gmail Help: “[Message clipped]”)"
    if html is None:
        return check("content.html-size", INFO, "No HTML body", "", ref)
    size = len(html.encode("utf-8", "surrogateescape"))
    shown = f"The HTML is {size / 1024:.1f} KB"
    if size > GMAIL_CLIP:
        return check(
            "content.html-size",
            FAIL,
            "HTML over 102 KB: Gmail clips it",
            f"{shown}; Gmail shows only the first ~102 KB and a “View entire"
            " message” link (the rest, often the unsubscribe link, is hidden).",
            ref,
        )
    if size > NEAR_CLIP:
        return check(
            "content.html-size",
            WARN,
            "HTML close to Gmail's 102 KB clipping",
            f"{shown}; a little more content and Gmail clips it.",
            ref,
        )
    return check("content.html-size", PASS, "HTML under 102 KB", f"{shown}.", ref)


def text_alternative_check(mail: CheckedMail) -> Check:
    """Check that HTML mail also has a plain-text version."""
    ref = "RFC 2046 §5.1.4; SpamAssassin MIME_HTML_ONLY"
    text, html = mail.message.text, mail.message.html
    if html is None:
        status, title = (PASS, "Plain text") if text is not None else (INFO, "No body")
        return check("content.text-alternative", status, title, "", ref)
    if text is None:
        return check(
            "content.text-alternative",
            WARN,
            "No plain-text alternative",
            "The message has HTML only: spam filters score HTML-only mail, and text"
            " clients show nothing useful. Add a text/plain part in"
            " multipart/alternative.",
            ref,
        )
    if not text.strip() and html_to_text(html).strip():
        return check(
            "content.text-alternative",
            WARN,
            "The plain-text alternative is empty",
            "The text/plain part is blank while the HTML has text.",
            ref,
        )
    return check("content.text-alternative", PASS, "HTML with a plain-text alternative", "", ref)


@dataclass
class Image:
    """An <img> of the HTML: its source, alt text (None when absent) and declared size."""

    src: str
    alt: str | None
    width: str | None = None
    height: str | None = None

    @property
    def pixel(self) -> bool:
        """Say whether it is a 1x1 tracking pixel (no alt needed, not content)."""
        return all(
            v is not None and v.strip().rstrip("px") in ("0", "1")
            for v in (self.width, self.height)
        )


class _ImageParser(HTMLParser):
    """Collect the <img> elements; entities in attributes are decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Image] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            values = dict(attrs)
            alt = (values["alt"] or "") if "alt" in values else None
            self.found.append(
                Image(values.get("src") or "", alt, values.get("width"), values.get("height"))
            )


def html_images(html: str) -> list[Image]:
    """Return the <img> elements of the HTML, in order."""
    parser = _ImageParser()
    try:
        parser.feed(html)
        parser.close()
    except AssertionError:  # html.parser gives up on some marked sections ("<![foo[")
        pass
    return parser.found


def image_alt_check(images: list[Image]) -> Check:
    """Check that every image (tracking pixels aside) has alt text."""
    ref = "WCAG 2.1 SC 1.1.1; many mail clients block images until the reader allows them"
    content = [i for i in images if not i.pixel]
    missing = [i.src or "(no src)" for i in content if i.alt is None]
    if not content:
        return check("content.image-alt", INFO, "No images", "", ref)
    if missing:
        return check(
            "content.image-alt",
            WARN,
            f"{len(missing)} image(s) without alt text",
            f"Without alt, a blocked image shows nothing: {listed(missing)}",
            ref,
        )
    return check(
        "content.image-alt", PASS, "Every image has alt text", f"{len(content)} image(s).", ref
    )


def image_ratio_check(images: list[Image], visible: str) -> Check:
    """Check that HTML with images also carries text (image-only mail looks like spam)."""
    ref = "SpamAssassin HTML_IMAGE_ONLY_*, HTML_IMAGE_RATIO_*"
    content = [i for i in images if not i.pixel]
    if not content:
        return check("content.image-ratio", INFO, "No images", "", ref)
    if len(visible) < IMAGE_TEXT:
        return check(
            "content.image-ratio",
            WARN,
            "Mostly images, little text",
            f"{len(content)} image(s) and {len(visible)} characters of text; filters"
            f" score HTML that is mostly images (under {IMAGE_TEXT} characters of"
            " text).",
            ref,
        )
    return check(
        "content.image-ratio",
        PASS,
        "Enough text beside the images",
        f"{len(content)} image(s), {len(visible)} characters of text.",
        ref,
    )


def placeholder_check(mail: CheckedMail, visible: str) -> Check:
    """Check for template placeholders left unreplaced in what the recipient sees."""
    ref = "Template output: the recipient sees the placeholder itself"
    found: list[Placeholder] = find_placeholders("subject", mail.header("Subject") or "")
    found += find_placeholders("text body", mail.message.text or "")
    found += find_placeholders("HTML", visible)
    for link in mail.message.links:
        found += find_in_url(link.url)
    if found:
        return check(
            "content.placeholders",
            FAIL,
            f"Unreplaced template placeholder{'s' if len(found) > 1 else ''}",
            listed([p.describe() for p in found]),
            ref,
        )
    return check(
        "content.placeholders",
        PASS,
        "No unreplaced placeholders",
        "Subject, text, HTML and link targets were searched.",
        ref,
    )
