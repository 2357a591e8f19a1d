"""SMTP reply texts, and the RFC 3463 enhanced status codes that every reply must carry.

RFC 2034 §3: once ENHANCEDSTATUSCODES is advertised, every reply except the greeting and the
HELO/EHLO replies carries an enhanced status code. aiosmtpd's own replies mostly lack them, so
`with_enhanced_code` adds one, chosen from the reply code and the command being answered.
3xx replies (354, 334) are intermediate: RFC 3463 defines only classes 2, 4 and 5, and a 334
line carries a base64 challenge that must not be touched (RFC 4954 §4).
"""

from __future__ import annotations

import functools
import re

QUEUED = "250 2.0.0 Ok: queued as {id}"
STORAGE_FAILED = "451 4.3.0 Requested action aborted: local storage unavailable, try again later"
TOO_BIG = "552 5.3.4 Message size exceeds fixed maximum message size"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"
IDLE_TIMEOUT = "421 4.4.2 {host} Idle timeout, closing connection"
SHUTTING_DOWN = "421 4.3.2 {host} Service shutting down, closing connection"
TOO_MANY_CONNECTIONS = "421 4.7.0 {host} Too many connections, try again later"
AUTH_FAILED = "535 5.7.8 Authentication credentials invalid"
TOO_MANY_AUTH_FAILURES = "421 4.7.0 {host} Too many failed authentication attempts, closing"
AUTH_LINE_TOO_LONG = "500 5.5.6 Authentication Exchange line is too long"  # RFC 4954 §4

_HAS_CODE = re.compile(r"^\d{3}[ -][245]\.\d{1,3}\.\d{1,3}( |$)")
_REPLY = re.compile(r"^(\d{3})([ -]?)(.*)$", re.DOTALL)

# (reply code, command) -> enhanced code; command None is the default for that reply code.
_BY_COMMAND: dict[tuple[str, str | None], str] = {
    ("250", "MAIL"): "2.1.0",
    ("250", "RCPT"): "2.1.5",
    ("250", None): "2.0.0",
    ("252", None): "2.1.5",
    ("221", None): "2.0.0",
    ("220", None): "2.0.0",
    ("214", None): "2.0.0",
    ("235", None): "2.7.0",
    ("421", None): "4.3.0",
    ("450", None): "4.2.0",
    ("451", None): "4.3.0",
    ("452", None): "4.3.1",
    ("454", None): "4.7.0",
    ("500", None): "5.5.2",
    ("501", None): "5.5.4",
    ("502", None): "5.5.1",
    ("503", None): "5.5.1",
    ("504", None): "5.5.4",
    ("530", None): "5.7.0",
    ("534", None): "5.7.9",
    ("535", None): "5.7.8",
    ("538", None): "5.7.11",
    ("550", None): "5.1.1",
    ("551", None): "5.1.6",
    ("552", None): "5.3.4",
    ("553", None): "5.1.3",
    ("554", None): "5.0.0",
    ("555", None): "5.5.4",
}


def with_enhanced_code(reply: str, command: str | None) -> str:
    """Return the reply with an enhanced status code inserted if it lacks one."""
    if reply[5:6] == "." and _HAS_CODE.match(reply):
        return reply  # already coded, like every reply of ours: the common case, kept cheap
    return _add_enhanced_code(reply, command)


@functools.lru_cache(maxsize=512)
def _add_enhanced_code(reply: str, command: str | None) -> str:
    match = _REPLY.match(reply)
    if match is None:
        return reply
    code, sep, text = match.groups()
    if code[0] not in "245":
        return reply
    if code == "500" and "not recognized" in text:
        enhanced = "5.5.1"  # RFC 3463 §3.6: invalid command
    else:
        enhanced = (
            _BY_COMMAND.get((code, command)) or _BY_COMMAND.get((code, None)) or f"{code[0]}.0.0"
        )
    return f"{code}{sep or ' '}{enhanced} {text}".rstrip()
