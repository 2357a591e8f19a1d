"""Run every check on one message: the offline checks, then SpamAssassin when configured."""

from __future__ import annotations

import datetime as dt

from mailtrap_lite.checks.authentication import authentication_checks, verify_signatures
from mailtrap_lite.checks.bulk import bulk_checks
from mailtrap_lite.checks.content import content_checks
from mailtrap_lite.checks.dkimkeys import KeyRing
from mailtrap_lite.checks.formatting import format_checks
from mailtrap_lite.checks.mail import CheckedMail
from mailtrap_lite.checks.report import Check, Report
from mailtrap_lite.checks.spam import SpamOutcome, spam_checks
from mailtrap_lite.checks.transport import transport_checks
from mailtrap_lite.config import Address, Config
from mailtrap_lite.message import read_message


class Checker:
    """The checks with their settings: DKIM keys, and spamd's address (None: no spam score)."""

    def __init__(self, keys: KeyRing | None = None, spamd: Address | None = None) -> None:
        self.keys = keys or KeyRing()
        self.spamd = spamd

    @classmethod
    def from_config(cls, config: Config) -> Checker:
        """Return a checker with the keys and spamd address of a Config."""
        return cls(KeyRing(config.dkim_keys), config.spamd)

    def offline_checks(self, mail: CheckedMail) -> list[Check]:
        """Return every check that needs nothing beyond this process (all but the spam score)."""
        signatures = verify_signatures(mail.raw, self.keys)
        return [
            *authentication_checks(mail, signatures),
            *bulk_checks(mail, signatures),
            *format_checks(mail),
            *content_checks(mail),
            *transport_checks(mail),
        ]

    def spam(self, raw: bytes) -> SpamOutcome:
        """Ask spamd about a message (no checks at all without --spamd)."""
        if self.spamd is None:
            return SpamOutcome(())
        return spam_checks(self.spamd, raw)

    def check(self, mail: CheckedMail) -> Report:
        """Return the whole report of one message."""
        return Report.of([*self.offline_checks(mail), *self.spam(mail.raw).checks])

    def check_file(self, raw: bytes, now: dt.datetime | None = None) -> Report:
        """Return the report of a message read from a file (no envelope, no session).

        A file whose lines all end in LF (as files on Unix do) is read as an SMTP client
        sends it, with CRLF (smtplib and others convert them); mixed endings are kept.
        """
        if b"\r" not in raw:
            raw = raw.replace(b"\n", b"\r\n")
        when = now or dt.datetime.now(dt.UTC)
        return self.check(CheckedMail.of(raw, read_message(raw), when))
