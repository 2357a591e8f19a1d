"""Content-Transfer-Encoding against what each part really holds (RFC 2045 §6).

The read model notes, as it decodes each leaf, what its payload looked like before (the
longest line, 8-bit bytes, the base64 alphabet), so this needs no second parse of the message.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from mailtrap_lite.message import Message
from mailtrap_lite.mime.body import QP_LINE, Leaf, Part

KNOWN = ("7bit", "8bit", "binary", "quoted-printable", "base64")
MULTIPART_ENCODINGS = ("7bit", "8bit", "binary")  # RFC 2045 §6.4


@dataclass(frozen=True)
class EncodingProblem:
    """One mismatch in one part; a minor one does no harm in practice."""

    text: str  # "part 2 (text/html): declared 7bit but holds 8-bit data (RFC 2045 §2.7)"
    minor: bool = False


def encoding_problems(message: Message) -> list[EncodingProblem]:
    """Return what does not match, one sentence per part and problem, in document order."""
    problems = [
        EncodingProblem(
            f"{_name(node)}: a multipart may not be encoded {node.encoding} (RFC 2045 §6.4)"
        )  # fmt: skip
        for node in _multiparts(message.tree)
        if _declared(node) not in MULTIPART_ENCODINGS
    ]
    for leaf in message.leaves:
        problems += [EncodingProblem(f"{_name(leaf.part)}: {p.text}", p.minor)
                     for p in _leaf_problems(leaf)]  # fmt: skip
    return problems


def _multiparts(node: Part | None) -> Iterator[Part]:
    if node is None or not node.children:
        return
    yield node
    for child in node.children:
        yield from _multiparts(child)


def _declared(part: Part) -> str:
    return (part.encoding or "7bit").strip().lower() or "7bit"


def _name(part: Part) -> str:
    return f"part {part.address or '(root)'} ({part.content_type})"


def _leaf_problems(leaf: Leaf) -> list[EncodingProblem]:
    declared, encoded = _declared(leaf.part), leaf.encoded
    if declared not in KNOWN:
        return [EncodingProblem(f"unknown Content-Transfer-Encoding {declared!r}")]
    if declared == "7bit" and encoded.eight_bit:
        return [EncodingProblem("declared 7bit but holds 8-bit data (RFC 2045 §2.7)")]
    if declared == "base64" and not encoded.base64_valid:
        return [EncodingProblem("not valid base64 (RFC 2045 §6.8)")]
    if declared != "quoted-printable":
        return []
    found = []
    if encoded.eight_bit:
        found.append(EncodingProblem("quoted-printable with raw 8-bit bytes (RFC 2045 §6.7)"))
    if encoded.longest_line > QP_LINE:
        # Minor: Python's email package writes 78 (its policy's max_line_length), and
        # SpamAssassin's MIME_QP_LONG_LINE scores 0.001.
        text = (
            f"quoted-printable line of {encoded.longest_line} characters, over 76 (RFC 2045 §6.7)"
        )
        found.append(EncodingProblem(text, minor=True))
    return found
