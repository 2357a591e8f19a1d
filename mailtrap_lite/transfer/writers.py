"""Writing messages out: an mbox file, a Maildir, a folder of .eml files, a zip file.

Every writer puts the raw bytes out exactly as stored. A zip file is written as a stream
(zipfile's data descriptors), so the API can send one while it is being written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Protocol

from mailtrap_lite.store.records import SessionRecord, StoredMessage
from mailtrap_lite.transfer.files import SESSIONS_FILE
from mailtrap_lite.transfer.mbox import mboxrd_message

FORMATS = ("mbox", "maildir", "eml", "zip")
STREAMED_FORMATS = ("mbox", "zip")  # the ones that are one file: the API sends these


class Writer(Protocol):
    """Where exported messages go."""

    def add(self, message: StoredMessage) -> None:
        """Write one message."""

    def add_sessions(self, lines: Iterable[str]) -> None:
        """Write the sessions of the exported messages, one JSON object a line."""

    def close(self) -> None:
        """Finish the output (a zip file's directory, an mbox file's last bytes)."""


def _timestamp(message: StoredMessage) -> float:
    return dt.datetime.fromisoformat(message.received_at.replace("Z", "+00:00")).timestamp()


def eml_name(message: StoredMessage) -> str:
    """Return the file name of a message in a folder or zip file: its id."""
    return f"{message.id}.eml"


class MboxWriter:
    """An mboxrd file (mbox.py); sessions go to a file beside it, NAME.sessions.jsonl."""

    def __init__(self, stream: IO[bytes], sessions_path: Path | None = None) -> None:
        self._stream = stream
        self._sessions_path = sessions_path

    def add(self, message: StoredMessage) -> None:
        """Write one message: separator line, quoted bytes, the empty line."""
        self._stream.write(mboxrd_message(message))

    def add_sessions(self, lines: Iterable[str]) -> None:
        """Write the sessions beside the mbox file (an mbox holds messages only)."""
        if self._sessions_path is not None:
            _write_lines(self._sessions_path, lines)

    def close(self) -> None:
        """Flush what is written."""
        self._stream.flush()


class FolderWriter:
    """A folder of ID.eml files (the layout `mailpit dump` writes), times set to arrival."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._folder = folder

    def add(self, message: StoredMessage) -> None:
        """Write one message to its own file."""
        path = self._folder / eml_name(message)
        path.write_bytes(message.raw)
        stamp = _timestamp(message)
        os.utime(path, (stamp, stamp))

    def add_sessions(self, lines: Iterable[str]) -> None:
        """Write sessions.jsonl in the folder."""
        _write_lines(self._folder / SESSIONS_FILE, lines)

    def close(self) -> None:
        """Nothing is left open."""


class MaildirWriter(FolderWriter):
    """A Maildir: each message written in tmp/ then moved to new/ (unread) or cur/ (read)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        for sub in ("tmp", "new", "cur"):
            (folder / sub).mkdir(exist_ok=True)
        self._host = socket.gethostname().replace("/", "\\057").replace(":", "\\072") or "host"

    def add(self, message: StoredMessage) -> None:
        """Deliver one message the Maildir way: write in tmp/, then rename (atomic)."""
        stamp = _timestamp(message)
        # time.unique.host: the time first, so that names sort in arrival order
        name = f"{int(stamp)}.M{int(stamp % 1 * 1e6):06d}Q{message.id:012d}.{self._host}"
        temporary = self._folder / "tmp" / name
        temporary.write_bytes(message.raw)
        os.utime(temporary, (stamp, stamp))
        final = f"cur/{name}:2,S" if message.read else f"new/{name}"
        os.replace(temporary, self._folder / final)


class ZipWriter:
    """A zip file of ID.eml entries (and sessions.jsonl), written front to back."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._zip = zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED)

    def add(self, message: StoredMessage) -> None:
        """Add one message as an entry dated when it arrived (UTC)."""
        when = dt.datetime.fromtimestamp(_timestamp(message), dt.UTC)
        info = zipfile.ZipInfo(eml_name(message), when.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        self._zip.writestr(info, message.raw)

    def add_sessions(self, lines: Iterable[str]) -> None:
        """Add sessions.jsonl."""
        with self._zip.open(SESSIONS_FILE, "w") as entry:
            for line in lines:
                entry.write(line.encode("utf-8") + b"\n")

    def close(self) -> None:
        """Write the zip file's central directory."""
        self._zip.close()


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for line in lines:
            out.write(line + "\n")


def session_line(record: SessionRecord) -> str:
    """Return a session with its transcript as one JSON line (the export's own format)."""
    tls = (
        {"version": record.tls_version, "cipher": record.tls_cipher} if record.tls_version else None
    )
    return json.dumps({
        "id": record.id, "kind": record.kind, "inbox": record.inbox, "peer": record.peer,
        "helo": record.helo, "tls": tls, "auth_user": record.auth_user,
        "started_at": record.started_at, "ended_at": record.ended_at,
        "end_reason": record.end_reason, "message_ids": record.message_ids,
        "transcript": [
            {"at": e.at, "direction": e.direction, "line": e.line, "injected": e.injected}
            for e in record.transcript or []
        ],
    }, ensure_ascii=False)  # fmt: skip
