"""The Host header check that defeats DNS rebinding.

A page on `http://evil.example:8025` whose name the attacker re-points at 127.0.0.1 talks to
this server from the victim's browser as a same-origin page: it could read every message
(password-reset links, codes) and delete them. Its requests still say `Host: evil.example`.
So a request whose Host is a name other than `localhost`, the name the web server is bound
to, or one listed with `--allowed-hosts` is refused with 403. IP literals always pass: a
rebinding page can only send a name, and probes and containers address the server by IP.
The health routes answer whatever the Host, for load balancers that send their own. Every
web listener (the main one, --mailpit-http, --mailhog-http) checks the same way.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Iterable

ANY_HOST = "*"
ALWAYS_ALLOWED = frozenset({"localhost"})
OPEN_PATHS = frozenset({"/api/v1/health", "/livez", "/readyz"})
FLAG = "--allowed-hosts"


def allowed_names(bound_hosts: Iterable[str], extra: Iterable[str]) -> frozenset[str]:
    """Return the Host names answered: localhost, the bound names, and the extra ones."""
    names = set(ALWAYS_ALLOWED) | {normal_name(name) for name in extra}
    names |= {normal_name(host) for host in bound_hosts if not is_ip_literal(host)}
    return frozenset(names)


def host_name(header: str) -> str:
    """Return the name of a Host header, without its port and brackets, lowercased."""
    text = header.strip()
    if text.startswith("["):  # [IPv6]:port (RFC 3986 §3.2.2)
        return text[1:].partition("]")[0].lower()
    if text.count(":") == 1:
        text = text.partition(":")[0]
    return normal_name(text)


def normal_name(name: str) -> str:
    """Return a host name as compared: lowercased, without the root's trailing dot."""
    return name.strip().lower().rstrip(".")


def is_ip_literal(name: str) -> bool:
    """Tell whether a host is an IPv4 or IPv6 address rather than a name."""
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def host_allowed(header: str | None, names: Collection[str]) -> bool:
    """Tell whether a request with this Host header may be answered."""
    if header is None or ANY_HOST in names:
        return True  # without a Host header it is no browser (browsers always send one)
    name = host_name(header)
    return is_ip_literal(name) or name in names


def refusal(header: str) -> str:
    """Return the reason given with the 403: the name, and how to allow it."""
    name = host_name(header)
    return (
        f"host {name!r} is not allowed (a protection against DNS rebinding); start the"
        f" server with {FLAG} {name} to answer requests for that name"
    )
