"""Transport: what the SMTP session that delivered the message did (only a sink sees this).

In development a client that says `EHLO localhost` over plain TCP is normal, so these are
`info`, except a client that did not use STARTTLS when it was offered (`warn`: it would send
in clear text to a real server too) and 8-bit data sent without announcing it (`warn`: a
client bug whatever the environment; the server records it among the message's warnings).
"""

from __future__ import annotations

import re

from mailtrap_lite.checks.bulk import session_recipients
from mailtrap_lite.checks.domains import is_domain_name
from mailtrap_lite.checks.mail import CheckedMail, Envelope
from mailtrap_lite.checks.report import INFO, PASS, WARN, Check, check
from mailtrap_lite.mime.headers import header_block
from mailtrap_lite.store.records import SessionRecord

_STARTTLS_OFFER = re.compile(r"^250[ -]STARTTLS\b", re.IGNORECASE)
REF_TLS = "RFC 3207; Gmail and Yahoo sender requirements: send over TLS"
REF_EHLO = "RFC 5321 §4.1.1.1, §2.3.5"


def transport_checks(mail: CheckedMail) -> list[Check]:
    """Return the session checks, or one saying why there are none."""
    session = mail.session
    if session is None:
        where = "read from a file" if mail.envelope is None else "its session is not stored"
        return [
            check(
                "transport.session",
                INFO,
                "No SMTP session to check",
                f"The message was {where}.",
                "RFC 5321",
            )
        ]
    if session.kind != "smtp":
        return [
            check(
                "transport.session",
                INFO,
                "Not delivered over SMTP",
                f"The message came in a session of kind {session.kind!r}.",
                "RFC 5321",
            )
        ]
    found = [starttls_check(session), ehlo_check(session)]
    if mail.envelope is not None:
        found.append(eight_bit_check(mail.raw, mail.envelope))
    found.append(recipients_check(mail, session))
    return found


def starttls_check(session: SessionRecord) -> Check:
    """Check that the client used TLS, and whether it was offered."""
    if session.tls_version:
        return check(
            "transport.starttls",
            PASS,
            "Delivered over TLS",
            f"{session.tls_version}, {session.tls_cipher or 'cipher unknown'}.",
            REF_TLS,
        )
    offered = any(
        e.direction == "server" and _STARTTLS_OFFER.match(e.line) for e in session.transcript or ()
    )
    if offered:
        return check(
            "transport.starttls",
            WARN,
            "STARTTLS offered but not used",
            "The server offered STARTTLS and the client sent the message in clear"
            " text; it would do the same to a real server.",
            REF_TLS,
        )
    return check(
        "transport.starttls",
        INFO,
        "Plain SMTP; STARTTLS was not offered",
        "This sink offers STARTTLS only with a certificate: start it with"
        " --tls-self-signed to see whether the client upgrades.",
        REF_TLS,
    )


def ehlo_check(session: SessionRecord) -> Check:
    """Check that the client greeted with EHLO and its fully qualified domain name."""
    name = (session.helo or "").strip()
    verb = _greeting_verb(session)
    if not name:
        return check("transport.ehlo", INFO, "No EHLO recorded", "", REF_EHLO)
    if verb == "HELO":
        return check(
            "transport.ehlo",
            INFO,
            f"HELO {name}",
            "The client used HELO, not EHLO: no ESMTP extensions (8BITMIME, SMTPUTF8,"
            " STARTTLS) can be used.",
            REF_EHLO,
        )
    if is_domain_name(name):
        return check(
            "transport.ehlo", PASS, f"EHLO {name}", "A fully qualified domain name.", REF_EHLO
        )
    if name.startswith("[") and name.endswith("]"):
        return check(
            "transport.ehlo",
            INFO,
            f"EHLO {name}",
            "An address literal: allowed when the client has no name.",
            REF_EHLO,
        )
    return check(
        "transport.ehlo",
        INFO,
        f"EHLO {name}",
        "Not a fully qualified domain name: normal in development; receivers expect"
        " the sending host's name and filters score others.",
        REF_EHLO,
    )


def _greeting_verb(session: SessionRecord) -> str | None:
    """Return the last greeting the client sent, EHLO or HELO (None: neither recorded)."""
    verbs = [e.line[:4].upper() for e in session.transcript or () if e.direction == "client"]
    greetings = [verb for verb in verbs if verb in ("EHLO", "HELO")]
    return greetings[-1] if greetings else None


def eight_bit_check(raw: bytes, envelope: Envelope) -> Check:
    """Check that 8-bit data and UTF-8 headers were announced (8BITMIME, SMTPUTF8)."""
    ref = "RFC 6152 §3; RFC 6531 §3.4; RFC 6532 §3"
    options = {option.upper() for option in envelope.mail_options}
    if raw.isascii():
        return check("transport.8bit", PASS, "7-bit data", "", ref)
    problems = []
    if not options & {"BODY=8BITMIME", "SMTPUTF8"}:
        problems.append("8-bit data sent without BODY=8BITMIME or SMTPUTF8 in MAIL FROM")
    if not header_block(raw).isascii() and "SMTPUTF8" not in options:
        problems.append("UTF-8 in the headers without SMTPUTF8")
    if problems:
        return check(
            "transport.8bit",
            WARN,
            "8-bit data not announced",
            "; ".join(problems) + ". A strict server refuses it.",
            ref,
        )
    shown = " ".join(sorted(options & {"BODY=8BITMIME", "SMTPUTF8"}))
    return check("transport.8bit", PASS, "8-bit data announced", shown, ref)


def recipients_check(mail: CheckedMail, session: SessionRecord) -> Check:
    """Say how many recipients the message had and how many messages its session sent."""
    count = len(mail.envelope.rcpt_to) if mail.envelope else 0
    return check(
        "transport.recipients",
        INFO,
        f"{count} recipient{'s' if count != 1 else ''}",
        f"{count} envelope recipient(s) for this message; its session addressed"
        f" {session_recipients(mail)} distinct recipient(s) and delivered"
        f" {len(session.message_ids)} message(s).",
        "RFC 5321 §4.5.3.1.8",
    )
