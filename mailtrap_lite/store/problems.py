"""What went wrong in a session, found once from the lines that crossed the wire.

The SMTP side feeds every line to a ProblemFinder as it is recorded and adds what only it
knows at the time (the user name an AUTH tried, how much of an interrupted DATA had arrived);
the Store keeps the result with the session, so nobody reads a transcript again to judge it.
A stored transcript is judged the same way by `classify` (sessions stored before the judgement
was kept, and sessions whose server died before they ended).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from mailtrap_lite.store.records import Problem

# Endings other than QUIT (and a clean server shutdown) mean the client never finished.
ENDINGS = {
    "disconnect": Problem("disconnected", "the client disconnected without QUIT"),
    "timeout": Problem("timed-out", "the session timed out"),
    "limit": Problem("connection-limit", "a server limit closed the session"),
    # Several nodes on one PostgreSQL database: the node serving the session stopped beating.
    "node-lost": Problem("node-lost", "the node serving the session was lost (killed or cut off)"),
}
# How a DATA that never saw its end (CRLF.CRLF) was cut off, by the session's end reason.
DATA_CUT_BY = {
    "timeout": "the session timed out",
    "shutdown": "the server shut down",
    "limit": "a server limit closed the session",
    "node-lost": "the node serving the session was lost",
}
MAX_USER_SHOWN = 100  # characters of a tried AUTH user name kept in a problem's text


class ProblemFinder:
    """Follows one session's lines and says what went wrong (empty when it went well)."""

    def __init__(self) -> None:
        self._in_auth = False  # between an AUTH command and its final reply
        self._auth_user: str | None = None
        self._auth_failure: str | None = None
        self._permanent: tuple[int, str] | None = None  # (count, first reply)
        self._temporary: tuple[int, str] | None = None
        self._injected = 0
        self._data_cut: int | None = None
        self.changed = False  # since the last take_changed()

    def see(self, direction: str, line: str, injected: bool = False) -> None:
        """Take one transcript line (client lines are already masked)."""
        if injected:
            self._injected += 1
            self.changed = True
        if direction == "client":
            if not self._in_auth and line[:5].upper() == "AUTH ":
                self._in_auth, self._auth_user = True, None
            return
        if self._in_auth:
            self._auth_reply(line)
        elif line[:1] == "5":
            self._permanent = _count(self._permanent, line)
            self.changed = True
        elif line[:1] == "4":
            self._temporary = _count(self._temporary, line)
            self.changed = True

    def _auth_reply(self, line: str) -> None:
        """Judge a reply within an AUTH exchange (RFC 4954 §6: 235 succeeds, 334 goes on)."""
        if line.startswith("334"):
            return
        self._in_auth = False
        if line.startswith("235"):
            self.changed = self.changed or self._auth_failure is not None
            self._auth_failure = None
            return
        user = self._auth_user
        named = "" if user is None else f" for user {json.dumps(user, ensure_ascii=False)}"
        self._auth_failure = f"AUTH failed{named}: {line}"
        self.changed = True

    def auth_tried(self, user: str) -> None:
        """Note the user name the running AUTH exchange tried (its password is never kept)."""
        self._auth_user = user[:MAX_USER_SHOWN] + ("…" if len(user) > MAX_USER_SHOWN else "")

    def data_cut(self, octets: int) -> None:
        """Note that the session ended during DATA after `octets` of content had arrived."""
        self._data_cut = octets
        self.changed = True

    def problems(self, end_reason: str | None = None) -> list[Problem]:
        """Return what went wrong so far; `end_reason` once the session has ended."""
        found: list[Problem] = []
        if self._auth_failure is not None:
            found.append(Problem("auth-failed", self._auth_failure))
        for code, kind, seen in (
            ("permanent-failure", "permanent", self._permanent),
            ("temporary-failure", "temporary", self._temporary),
        ):
            if seen is not None:
                found.append(Problem(code, f"{seen[0]} {kind} failure(s), first: {seen[1]}"))
        if self._injected:
            found.append(Problem("injected-fault", f"{self._injected} injected fault(s)"))
        if self._data_cut is not None:
            found.append(self._data_problem(end_reason))
        elif end_reason in ENDINGS:
            found.append(ENDINGS[end_reason])
        return found

    def _data_problem(self, end_reason: str | None) -> Problem:
        how = DATA_CUT_BY.get(end_reason or "", "the client disconnected")
        octets = self._data_cut or 0
        return Problem(
            "data-incomplete",
            f"{how} during DATA: the message was incomplete ({octets:,} byte"
            f"{'' if octets == 1 else 's'} had arrived) and nothing was stored",
        )

    def take_changed(self) -> list[Problem] | None:
        """Return the problems so far if they changed since the last call, else None."""
        if not self.changed:
            return None
        self.changed = False
        return self.problems()


def _count(seen: tuple[int, str] | None, line: str) -> tuple[int, str]:
    """Count one more failure reply, keeping the first one's text."""
    return (1, line) if seen is None else (seen[0] + 1, seen[1])


def classify(lines: Iterable[tuple[str, str, bool]], end_reason: str | None) -> list[Problem]:
    """Judge a stored transcript: (direction, line, injected) triples, oldest first."""
    finder = ProblemFinder()
    for direction, line, injected in lines:
        finder.see(direction, line, injected)
    return finder.problems(end_reason)
