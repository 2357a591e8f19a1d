"""Domains as receivers compare them: organizational domains, alignment, IP-address hosts.

The organizational domain (RFC 7489 §3.2) comes from the Public Suffix List that the
`publicsuffixlist` package bundles; it is never downloaded at run time (no network here).
"""

from __future__ import annotations

import functools
import ipaddress
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList


@functools.cache
def _suffixes() -> PublicSuffixList:
    """Load the bundled list once (about 30 ms), on first use."""
    return PublicSuffixList()


def organizational_domain(domain: str) -> str:
    """Return the registrable domain ("mail.shop.example.co.uk" -> "example.co.uk")."""
    name = domain.strip().rstrip(".").lower()
    try:
        found = _suffixes().privatesuffix(name)
    except (ValueError, UnicodeError):  # a name the list cannot read: compare it whole
        found = None
    return str(found) if found else name


def aligned(signing_domain: str, from_domain: str) -> bool:
    """Say whether two domains align in relaxed mode (RFC 7489 §3.1.1): same org domain."""
    return organizational_domain(signing_domain) == organizational_domain(from_domain)


def strictly_aligned(signing_domain: str, from_domain: str) -> bool:
    """Say whether two domains are the same name (RFC 7489 §3.1.1, strict mode)."""
    return signing_domain.rstrip(".").lower() == from_domain.rstrip(".").lower()


def domain_of(address: str) -> str:
    """Return the domain of an address ("" when it has none)."""
    local, at, domain = address.rpartition("@")
    return domain.strip().rstrip(".").lower() if at and local else ""


def url_host(url: str) -> str:
    """Return the host of a URL, lower case, without brackets ("" when it has none)."""
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:  # an invalid IPv6 literal or port
        return ""


def is_ip_address(host: str) -> bool:
    """Say whether a host is an IP address rather than a name."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def is_domain_name(name: str) -> bool:
    """Say whether a name is a fully qualified domain name (RFC 1035 §2.3.1 labels, a dot)."""
    labels = name.rstrip(".").split(".")
    if len(labels) < 2 or len(name) > 253 or labels[-1].isdigit():
        return False
    return all(_label(label) for label in labels)


def _label(label: str) -> bool:
    if not 0 < len(label) <= 63 or label[0] == "-" or label[-1] == "-":
        return False
    return all(c.isalnum() or c == "-" for c in label)  # letters of U-labels count (RFC 5890)
