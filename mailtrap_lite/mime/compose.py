"""Building a message from the send API's JSON with the standard library's email package.

    {"from": "app@shop.test", "to": ["ann@example.com"], "subject": "Hi", "text": "...",
     "html": "...", "attachments": [{"filename": "a.pdf", "content": "<base64>"}]}

`read_send_request` checks the JSON and names the first bad field (SendError.field);
`compose` turns a checked request into RFC 5322 bytes with CRLF line ends: text and HTML as
multipart/alternative, attachments with a Content-ID as inline parts of the HTML
(multipart/related), the others attached. Bcc recipients go to the envelope only.
"""

from __future__ import annotations

import base64
import binascii
import email.errors
import email.policy
import email.utils
import re
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

__all__ = ["Attachment", "SendError", "SendRequest", "compose", "read_send_request"]

ADDRESS_FIELDS = ("to", "cc", "bcc", "reply_to")
# Headers the request sets through its own fields, or that the MIME structure decides.
RESERVED = frozenset({"from", "to", "cc", "bcc", "reply-to", "subject", "mime-version",
                      "content-type", "content-transfer-encoding"})  # fmt: skip
_FIELD_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 §3.6.8: printable ASCII but the colon
_ADDR = re.compile(r"[^\s@<>,;\"]+@[^\s@<>,;\"]+")


class SendError(ValueError):
    """A send request that cannot be used: `field` names the offending part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Attachment:
    """One file: its name, type, bytes and, for an inline part, its Content-ID."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None


@dataclass
class SendRequest:
    """A checked send request: addresses as (name, address) pairs."""

    from_: tuple[str, str]
    to: list[tuple[str, str]] = field(default_factory=list)
    cc: list[tuple[str, str]] = field(default_factory=list)
    bcc: list[tuple[str, str]] = field(default_factory=list)
    reply_to: list[tuple[str, str]] = field(default_factory=list)
    subject: str = ""
    text: str | None = None
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def recipients(self) -> list[str]:
        """Return the envelope recipients: To, Cc and Bcc."""
        return [address for _, address in self.to + self.cc + self.bcc]


def read_send_request(data: Any) -> SendRequest:
    """Check a send request's JSON; raise SendError naming the first bad field."""
    if not isinstance(data, dict):
        raise SendError("body", "expected a JSON object")
    request = SendRequest(from_=_address(data.get("from"), "from"))
    for name in ADDRESS_FIELDS:
        setattr(request, name, _addresses(data.get(name), name))
    if not request.recipients:
        raise SendError("to", "at least one recipient is needed in to, cc or bcc")
    request.subject = _text(data.get("subject"), "subject") or ""
    request.text = _text(data.get("text"), "text")
    request.html = _text(data.get("html"), "html")
    request.headers = _headers(data.get("headers"))
    request.attachments = _attachments(data.get("attachments"))
    return request


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise SendError(name, "expected a string")
    if name == "subject" and ("\r" in value or "\n" in value):
        raise SendError(name, "must be one line")
    return value


def _address(value: Any, name: str) -> tuple[str, str]:
    if isinstance(value, dict):
        address, display = value.get("address"), value.get("name") or ""
    else:
        address, display = value, ""
    if not isinstance(address, str) or not isinstance(display, str):
        raise SendError(name, 'expected "user@host" or {"name": ..., "address": "user@host"}')
    if isinstance(value, str):
        display, address = email.utils.parseaddr(value)
    if not _ADDR.fullmatch(address or "") or "\n" in display or "\r" in display:
        raise SendError(name, f"not an email address: {address!r}")
    try:
        Address(display_name=display, addr_spec=address)
    except (ValueError, IndexError, email.errors.HeaderParseError):
        raise SendError(name, f"not an email address: {address!r}") from None
    return display, address


def _addresses(value: Any, name: str) -> list[tuple[str, str]]:
    if value is None:
        return []
    if isinstance(value, str | dict):
        value = [value]
    if not isinstance(value, list):
        raise SendError(name, "expected a list of addresses")
    return [_address(item, f"{name}[{i}]") for i, item in enumerate(value)]


def _headers(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SendError("headers", 'expected an object such as {"X-Campaign": "spring"}')
    for name, text in value.items():
        where = f"headers.{name}"
        if not _FIELD_NAME.fullmatch(name) or name.lower() in RESERVED:
            raise SendError(where, "not a header this request may set")
        if not isinstance(text, str) or "\r" in text or "\n" in text:
            raise SendError(where, "expected a one-line string")
    return dict(value)


def _attachments(value: Any) -> list[Attachment]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SendError("attachments", "expected a list")
    return [_attachment(item, f"attachments[{i}]") for i, item in enumerate(value)]


def _attachment(item: Any, where: str) -> Attachment:
    if not isinstance(item, dict):
        raise SendError(where, "expected an object with filename, content_type, content")
    filename = item.get("filename")
    if not isinstance(filename, str) or not filename.strip():
        raise SendError(f"{where}.filename", "expected a file name")
    content_type = item.get("content_type") or "application/octet-stream"
    if not isinstance(content_type, str) or not re.fullmatch(r"[\w.+-]+/[\w.+-]+", content_type):
        raise SendError(f"{where}.content_type", f"not a MIME type: {content_type!r}")
    content_id = item.get("content_id")
    if content_id is not None and (not isinstance(content_id, str) or
                                   not re.fullmatch(r"[^\s<>]+", content_id)):  # fmt: skip
        raise SendError(f"{where}.content_id", "expected an id without spaces or <>")
    try:
        data = base64.b64decode(item.get("content", ""), validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise SendError(f"{where}.content", "expected base64") from None
    return Attachment(filename.strip(), content_type.lower(), data, content_id)


def compose(request: SendRequest, hostname: str = "mailtrap-lite") -> bytes:
    """Build the message's bytes (CRLF line ends), with Date and Message-ID when not given."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = _header_address(request.from_)
    for name, header in (("to", "To"), ("cc", "Cc"), ("reply_to", "Reply-To")):
        boxes = getattr(request, name)
        if boxes:
            message[header] = [_header_address(box) for box in boxes]
    message["Subject"] = request.subject
    given = {name.lower() for name in request.headers}
    if "date" not in given:
        message["Date"] = email.utils.formatdate(usegmt=True)
    if "message-id" not in given:
        message["Message-ID"] = email.utils.make_msgid(domain=hostname)
    for name, value in request.headers.items():
        message[name] = value
    _set_bodies(message, request)
    return message.as_bytes()


def _header_address(box: tuple[str, str]) -> Address:
    name, address = box
    return Address(display_name=name, addr_spec=address)


def _set_bodies(message: EmailMessage, request: SendRequest) -> None:
    inline = [a for a in request.attachments if a.content_id and request.html is not None]
    attached = [a for a in request.attachments if a not in inline]
    if request.text is not None or request.html is None:
        message.set_content(request.text or "")
    if request.html is not None:
        if request.text is not None:
            message.add_alternative(request.html, subtype="html")
        else:
            message.set_content(request.html, subtype="html")
    html_part = message.get_body(("html",))
    for found in inline:
        assert isinstance(html_part, EmailMessage)
        maintype, subtype = found.content_type.split("/", 1)
        html_part.add_related(found.data, maintype, subtype, cid=f"<{found.content_id}>",
                              filename=found.filename, disposition="inline")  # fmt: skip
    for found in attached:
        maintype, subtype = found.content_type.split("/", 1)
        part_args: dict[str, Any] = {"filename": found.filename}
        if found.content_id:
            part_args["cid"] = f"<{found.content_id}>"
        if maintype == "text":
            message.add_attachment(found.data.decode("utf-8", "replace"), subtype=subtype,
                                   **part_args)  # fmt: skip
        else:
            message.add_attachment(found.data, maintype, subtype, **part_args)
