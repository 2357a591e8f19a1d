"""Tag names, and the tags a message carries on arrival: its X-Tags header, plus-addresses.

    X-Tags: signup, welcome        ->  signup, welcome
    RCPT TO:<ann+billing@shop.test> ->  billing

Both are read before the 250 reply from what the header summary and the envelope already
hold, so they cost no parse. Tags from `--tag NAME=QUERY` rules need the search index and
are added just after it has the message (mailtrap_lite.services.followers).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "MAX_TAG_LENGTH",
    "TagError",
    "arrival_tags",
    "check_tag",
    "plus_tags",
    "tag_list",
    "unique_tags",
]

MAX_TAG_LENGTH = 64
MAX_TAGS = 50  # per message from headers and addresses: a hostile header cannot add thousands
# Letters and digits of any script, and - _ . + and inner spaces: names stay easy to type
# in a search (tag:name, or tag:"two words") and to put in a URL.
_TAG = re.compile(r"[\w.+-]+(?: [\w.+-]+)*")


class TagError(ValueError):
    """A tag name that cannot be used; the message says why."""


def check_tag(name: str) -> str:
    """Return the name with outer spaces removed, or raise TagError."""
    name = name.strip()
    if not name:
        raise TagError("a tag needs a name")
    if len(name) > MAX_TAG_LENGTH:
        raise TagError(f"tag {name[:20]!r}... is longer than {MAX_TAG_LENGTH} characters")
    if not _TAG.fullmatch(name):
        raise TagError(
            f"bad tag {name!r}: use letters, digits, spaces and - _ . + (no other characters)"
        )
    return name


def unique_tags(names: Iterable[str]) -> list[str]:
    """Return the names once each (compared without case), in order."""
    seen: set[str] = set()
    kept = []
    for name in names:
        if name.lower() not in seen:
            seen.add(name.lower())
            kept.append(name)
    return kept


def tag_list(header: str) -> list[str]:
    """Return the usable tags of an X-Tags header value (comma-separated); skip bad ones."""
    found = []
    for part in header.split(","):
        try:
            found.append(check_tag(part))
        except TagError:
            continue
    return unique_tags(found)[:MAX_TAGS]


def plus_tags(addresses: Iterable[str]) -> list[str]:
    """Return the tag of each plus-address (`user+tag@domain`), once each."""
    found = []
    for address in addresses:
        local = address.rpartition("@")[0] if "@" in address else ""
        _, plus, tag = local.partition("+")
        if plus:
            try:
                found.append(check_tag(tag))
            except TagError:
                continue
    return unique_tags(found)[:MAX_TAGS]


def arrival_tags(
    given: Iterable[str], x_tags: str, addresses: Iterable[str], plus_addresses: bool
) -> list[str]:
    """Return the tags a message carries in: given ones, X-Tags, plus-addresses (if on).

    SMTP mail, the send API and imports all tag a message this way.
    """
    found = [*given, *tag_list(x_tags)]
    if plus_addresses:
        found += plus_tags(addresses)
    return unique_tags(found)
