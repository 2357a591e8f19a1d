"""Content-Transfer-Encoding against what each part really holds (RFC 2045 §6).

The read model keeps decoded parts; this reads the encoded ones, with the same bounds
(mime/body.py: header bytes, depth and MAX_PARTS leaves). It parses with the email
package's compat32 policy, several times cheaper than the read model's modern one (whose
header objects it does not need): this parse is most of a report's cost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import Self

from mailtrap_lite.mime.body import MAX_DEPTH, MAX_PARTS, bounded_headers

KNOWN = ("7bit", "8bit", "binary", "quoted-printable", "base64")
MULTIPART_ENCODINGS = ("7bit", "8bit", "binary")  # RFC 2045 §6.4
QP_LINE = 76  # RFC 2045 §6.7 rule 5
_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


class _Bounded(Message):
    """A compat32 Message the parser does not descend into past MAX_DEPTH (as BoundedMessage)."""

    depth = 0

    def attach(self, payload: Self) -> None:  # type: ignore[override]
        """Add a subpart one level below this one (the parser calls this before reading it)."""
        payload.depth = self.depth + 1
        super().attach(payload)

    def get_content_type(self) -> str:
        """Return the type, or application/octet-stream below MAX_DEPTH: read it as a leaf."""
        return "application/octet-stream" if self.depth > MAX_DEPTH else super().get_content_type()


@dataclass(frozen=True)
class EncodingProblem:
    """One mismatch in one part; a minor one does no harm in practice."""

    text: str  # "part 2 (text/html): declared 7bit but holds 8-bit data (RFC 2045 §2.7)"
    minor: bool = False


def encoding_problems(raw: bytes) -> list[EncodingProblem]:
    """Return what does not match, one sentence per part and problem."""
    try:
        root = BytesParser(_Bounded, policy=policy.compat32).parsebytes(bounded_headers(raw))
        parts = list(root.walk())
    except Exception as error:  # hostile MIME: format.structure reports it
        return [EncodingProblem(f"the parts cannot be read ({type(error).__name__})")]
    problems: list[EncodingProblem] = []
    for number, part in enumerate(parts[:MAX_PARTS]):
        name = _name(part, number)
        problems += [EncodingProblem(f"{name}: {p.text}", p.minor) for p in _part_problems(part)]
    return problems


def _name(part: Message, number: int) -> str:
    return f"part {number} ({part.get_content_type()})" if number else "the message body"


def _part_problems(part: Message) -> list[EncodingProblem]:
    declared = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower() or "7bit"
    if part.is_multipart():
        if declared not in MULTIPART_ENCODINGS:
            return [EncodingProblem(f"a multipart may not be encoded {declared} (RFC 2045 §6.4)")]
        return []
    if declared not in KNOWN:
        return [EncodingProblem(f"unknown Content-Transfer-Encoding {declared!r}")]
    payload = part.get_payload(decode=False)
    if not isinstance(payload, str):
        return []
    return _payload_problems(declared, payload)


def _payload_problems(declared: str, payload: str) -> list[EncodingProblem]:
    # BytesParser keeps 8-bit bytes as surrogate escapes; anything past ASCII is 8-bit data.
    eight_bit = not payload.isascii()
    if declared == "7bit" and eight_bit:
        return [EncodingProblem("declared 7bit but holds 8-bit data (RFC 2045 §2.7)")]
    if declared == "quoted-printable":
        found = []
        if eight_bit:
            found.append(EncodingProblem("quoted-printable with raw 8-bit bytes (RFC 2045 §6.7)"))
        longest = max((len(line) for line in payload.splitlines()), default=0)
        if longest > QP_LINE:
            # Minor: Python's email package writes 78 (its policy's max_line_length), and
            # SpamAssassin's MIME_QP_LONG_LINE scores 0.001.
            found.append(
                EncodingProblem(
                    f"quoted-printable line of {longest} characters, over 76 (RFC 2045 §6.7)", True
                )
            )
        return found
    if declared == "base64":
        compact = "".join(payload.split())
        if not _BASE64.match(compact) or len(compact) % 4:
            return [EncodingProblem("not valid base64 (RFC 2045 §6.8)")]
    return []
