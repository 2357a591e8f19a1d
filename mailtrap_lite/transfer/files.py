"""Reading messages from files: mbox, Maildir, single .eml files, folders and zip files.

A file's name says what it is (.mbox, .eml, .zip; a folder with cur/ and new/ is a Maildir,
any other folder is read file by file, which is what `mailpit dump` writes); a name that says
nothing is told by its first bytes. A file that is not what its name says is reported by name
and skipped, and so is every message over the size limit.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from mailtrap_lite.mime.headers import rfc3339
from mailtrap_lite.transfer.items import Failure, Item
from mailtrap_lite.transfer.mbox import SEPARATOR, read_mbox, too_large

MBOX_SUFFIXES = (".mbox", ".mbx")
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP = b"PK\x05\x06"
SESSIONS_FILE = "sessions.jsonl"  # what an export with --sessions adds; not a message
# RFC 5322 §2.2: a header field name is printable US-ASCII but the colon
_FIELD = re.compile(rb"[!-9;-~]+[ \t]*:")
_DIGITS = re.compile(r"(\d+)")
_MAILDIR_TIME = re.compile(r"(\d{9,11})\.")  # Maildir names start with the delivery time


def kind_of(path: Path, head: bytes) -> str:
    """Return what a file is: mbox, eml or zip by its name, else by its first bytes."""
    suffix = path.suffix.lower()
    if suffix in MBOX_SUFFIXES:
        return "mbox"
    if suffix in (".eml", ".zip"):
        return suffix[1:]
    if head.startswith((ZIP_MAGIC, EMPTY_ZIP)):
        return "zip"
    if head.startswith(SEPARATOR):
        return "mbox"
    return "eml"


def read_path(path: Path, max_size: int) -> Iterator[Item | Failure]:
    """Yield the messages of a file or folder given on the command line."""
    if path.is_dir():
        yield from read_folder(path, max_size)
        return
    try:
        with path.open("rb") as stream:
            yield from read_stream(stream, str(path), path, max_size)
    except OSError as error:
        yield Failure(str(path), f"cannot read: {error.strerror}", "unreadable")


def read_stream(
    stream: IO[bytes], name: str, path: Path, max_size: int, size: int | None = None
) -> Iterator[Item | Failure]:
    """Yield the messages of one open file (`path` gives its name; `size` may be known)."""
    head = stream.read(8)
    stream.seek(0)
    kind = kind_of(path, head)
    if kind == "mbox":
        yield from read_mbox(stream, name, max_size)
    elif kind == "zip":
        yield from read_zip(stream, name, max_size)
    else:
        yield read_eml(stream, name, max_size, size)


def read_eml(
    stream: IO[bytes], name: str, max_size: int, size: int | None = None
) -> Item | Failure:
    """Return the one message of an .eml file, or why it is not one."""
    raw = stream.read(max_size + 1)
    if len(raw) > max_size:
        return too_large(name, size or len(raw) + len(stream.read()), max_size)
    if not raw:
        return Failure(name, "not a message: the file is empty", "not-message")
    if not (_FIELD.match(raw) or raw.startswith(SEPARATOR)):
        return Failure(name, "not a message: it does not start with a header field",
                       "not-message")  # fmt: skip
    return Item(raw, name)


def read_folder(folder: Path, max_size: int) -> Iterator[Item | Failure]:
    """Yield the messages of a Maildir, or of the mail files in a folder and its subfolders."""
    if (folder / "cur").is_dir() and (folder / "new").is_dir():
        yield from read_maildir(folder, max_size)
        return
    for path in sorted(folder.iterdir(), key=natural_order):
        if _is_mail_file(path):
            yield from read_path(path, max_size)


def natural_order(path: Path) -> list[tuple[int, str]]:
    """Sort key putting 9.eml before 10.eml (numbers by value, the rest as text)."""
    return [(int(part), "") if part.isdigit() else (0, part) for part in _DIGITS.split(path.name)]


def _is_mail_file(path: Path) -> bool:
    """Tell whether a folder's entry is read: subfolders and files named as mail."""
    return path.is_dir() or path.suffix.lower() in (*MBOX_SUFFIXES, ".eml", ".zip")


def read_maildir(folder: Path, max_size: int) -> Iterator[Item | Failure]:
    """Yield the messages of a Maildir (new/ and cur/; tmp/ holds unfinished deliveries)."""
    files = [p for sub in ("cur", "new") for p in (folder / sub).iterdir() if p.is_file()]
    for path in sorted(files, key=lambda p: p.name):
        found = _maildir_file(path, max_size)
        if isinstance(found, Item):
            found.received_at = maildir_time(path.name)
        yield found


def _maildir_file(path: Path, max_size: int) -> Item | Failure:
    try:
        with path.open("rb") as stream:
            return read_eml(stream, str(path), max_size, path.stat().st_size)
    except OSError as error:
        return Failure(str(path), f"cannot read: {error.strerror}", "unreadable")


def maildir_time(name: str) -> str | None:
    """Return the delivery time at the start of a Maildir file name, as RFC 3339."""
    match = _MAILDIR_TIME.match(name)
    if match is None:
        return None
    return rfc3339(dt.datetime.fromtimestamp(int(match.group(1)), dt.UTC))


def read_zip(stream: IO[bytes], name: str, max_size: int) -> Iterator[Item | Failure]:
    """Yield the messages of every mail file in a zip file (a Maildir inside one too)."""
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError) as error:
        yield Failure(name, f"not a zip file, or a truncated one ({error})", "not-zip")
        return
    with archive:
        for entry in archive.infolist():
            if not entry.is_dir() and _is_mail_entry(entry.filename):
                yield from _zip_entry(archive, entry, f"{name}:{entry.filename}", max_size)


def _is_mail_entry(entry: str) -> bool:
    parts = entry.split("/")
    return parts[-1] != SESSIONS_FILE and "tmp" not in parts[:-1] and not parts[-1].startswith(".")


def _zip_entry(
    archive: zipfile.ZipFile, entry: zipfile.ZipInfo, where: str, max_size: int
) -> Iterator[Item | Failure]:
    path = Path(entry.filename)
    try:
        with archive.open(entry) as member:
            if kind_of(path, member.read(8)) == "mbox":
                with archive.open(entry) as again:
                    yield from read_mbox(again, where, max_size)
                return
        if entry.file_size > max_size:
            yield too_large(where, entry.file_size, max_size)
            return
        with archive.open(entry) as member:
            found = read_eml(member, where, max_size, entry.file_size)
        if isinstance(found, Item) and {"cur", "new"} & set(path.parts[:-1]):
            found.received_at = maildir_time(path.name)
        yield found
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        yield Failure(where, f"cannot read from the zip file: {error}", "bad-zip-entry")


def count_path(path: Path) -> int:
    """Count the messages a file or folder holds, cheaply (for progress: mbox lines are
    counted at C speed, zip entries and files are listed, nothing is parsed)."""
    try:
        if path.is_dir():
            if (path / "cur").is_dir() and (path / "new").is_dir():
                return sum(1 for sub in ("cur", "new") for p in (path / sub).iterdir())
            return sum(count_path(p) for p in path.iterdir() if _is_mail_file(p))
        with path.open("rb") as stream:
            return _count_stream(stream, path)
    except OSError:
        return 1


def _count_stream(stream: IO[bytes], path: Path) -> int:
    kind = kind_of(path, stream.read(8))
    stream.seek(0)
    if kind == "eml":
        return 1
    if kind == "zip":
        try:
            with zipfile.ZipFile(stream) as archive:
                return sum(1 for e in archive.infolist()
                           if not e.is_dir() and _is_mail_entry(e.filename))  # fmt: skip
        except (zipfile.BadZipFile, OSError):
            return 1
    return _count_separators(stream)


def _count_separators(stream: IO[bytes]) -> int:
    count, tail = 0, b"\n"
    while chunk := stream.read(1 << 20):
        count += (tail + chunk).count(b"\n" + SEPARATOR)
        tail = chunk[-len(SEPARATOR) :]
    return count
