"""Spam score from SpamAssassin's spamd (`--spamd HOST:PORT`), over the SPAMC protocol.

One REPORT request per message (spamd's protocol, spamc/PROTOCOL in SpamAssassin): spamd
answers with the score, the threshold and a table of the rules that hit. Run spamd with
`-L` (local tests only) so that it never queries DNS blocklists off this machine.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

from mailtrap_lite.checks.report import FAIL, INFO, PASS, Check, check
from mailtrap_lite.config import Address

MAX_BYTES = 512_000  # spamc's default --max-size: larger messages are not scored
REPLY_LIMIT = 1024 * 1024
TIMEOUT = 30.0
REF = "SpamAssassin via spamd (its required_score is the threshold)"
_STATUS = re.compile(r"^SPAMD/[\d.]+\s+(\d+)\s+(.*)$")
_SPAM = re.compile(r"^Spam:\s*(\w+)\s*;\s*(-?[\d.]+)\s*/\s*(-?[\d.]+)", re.IGNORECASE)
_RULE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s+(.*)$")


class SpamdError(Exception):
    """spamd could not be reached or did not answer as the protocol says."""


@dataclass(frozen=True)
class SpamRule:
    """One rule that hit: its name, its points and its description."""

    name: str
    score: float
    description: str


@dataclass(frozen=True)
class SpamResult:
    """spamd's verdict on one message."""

    is_spam: bool
    score: float
    threshold: float
    rules: tuple[SpamRule, ...]


def ask_spamd(address: Address, raw: bytes, timeout: float = TIMEOUT) -> SpamResult:
    """Send one message to spamd and read its report; SpamdError when that fails."""
    request = b"REPORT SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(raw) + raw
    try:
        with socket.create_connection((address.hosts()[0], address.port), timeout) as sock:
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)  # the end of the message, as spamc does
            reply = _read_all(sock)
    except OSError as error:
        raise SpamdError(f"cannot reach spamd at {address}: {error}") from None
    return parse_reply(reply.decode("utf-8", "replace"))


def _read_all(sock: socket.socket) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < REPLY_LIMIT:
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def parse_reply(reply: str) -> SpamResult:
    """Read a SPAMD REPORT reply: status line, headers, blank line, the report."""
    head, _, body = reply.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    status = _STATUS.match(lines[0]) if lines else None
    if status is None or status.group(1) != "0":
        raise SpamdError(f"spamd answered {lines[0][:200]!r}" if lines else "spamd said nothing")
    verdict = next((m for m in map(_SPAM.match, lines[1:]) if m), None)
    if verdict is None:
        raise SpamdError("spamd's answer has no Spam: header")
    return SpamResult(
        is_spam=verdict.group(1).lower() in ("true", "yes"),
        score=float(verdict.group(2)),
        threshold=float(verdict.group(3)),
        rules=tuple(parse_rules(body)),
    )


def parse_rules(report: str) -> list[SpamRule]:
    """Read the "pts rule name description" table; wrapped descriptions are joined."""
    rules: list[SpamRule] = []
    in_table = False
    for line in report.split("\n"):
        if line.startswith("----"):
            in_table = True
            continue
        if not in_table or not line.strip():
            continue
        match = _RULE.match(line)
        if match:
            rules.append(SpamRule(match.group(2), float(match.group(1)), match.group(3).strip()))
        elif rules and line.startswith(" "):
            last = rules[-1]
            rules[-1] = SpamRule(last.name, last.score, f"{last.description} {line.strip()}")
    return rules


# -- the checks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpamOutcome:
    """What asking spamd about one message gave: its verdict, or why there is none."""

    checks: tuple[Check, ...]  # the score check, then one per rule hit
    result: SpamResult | None = None  # None: not scored (too large) or spamd did not answer
    error: str = ""  # why spamd did not answer
    keep: bool = True  # False: a failure to reach spamd, to be asked again next time


def spam_checks(address: Address, raw: bytes) -> SpamOutcome:
    """Ask spamd about one message: the score check and one check per rule hit."""
    if len(raw) > MAX_BYTES:
        detail = f"{len(raw):,} bytes; spamc does not send messages over {MAX_BYTES:,}."
        too_large = check("spam.score", INFO, "Not scored: too large for SpamAssassin", detail, REF)
        return SpamOutcome((too_large,))
    try:
        result = ask_spamd(address, raw)
    except SpamdError as error:
        silent = check("spam.score", INFO, "SpamAssassin did not answer", str(error), REF)
        return SpamOutcome((silent,), error=str(error), keep=False)
    return SpamOutcome((score_check(result), *(rule_check(r) for r in result.rules)), result)


def score_check(result: SpamResult) -> Check:
    """Return the verdict: spam (fail) at or above the threshold, else pass."""
    shown = f"Score {result.score:g}, threshold {result.threshold:g}"
    hits = ", ".join(rule.name for rule in result.rules if rule.score) or "none that score"
    if result.is_spam or result.score >= result.threshold:
        return check(
            "spam.score", FAIL, "SpamAssassin scores it as spam", f"{shown}; rules: {hits}.", REF
        )
    return check(
        "spam.score",
        PASS,
        "SpamAssassin does not score it as spam",
        f"{shown}; rules: {hits}.",
        REF,
    )


def rule_check(rule: SpamRule) -> Check:
    """Return one rule hit as context: its points and description."""
    return check(
        f"spam.rule.{rule.name}",
        INFO,
        f"{rule.name} ({rule.score:+g} points)",
        rule.description,
        f"SpamAssassin rule {rule.name}",
    )
