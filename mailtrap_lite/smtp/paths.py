"""SMTP paths (RFC 5321 §4.1.2): the address in the argument of MAIL FROM and RCPT TO."""

from __future__ import annotations

from email._header_value_parser import (  # the parser aiosmtpd uses for paths
    get_addr_spec,
    get_angle_addr,
)
from email.errors import HeaderParseError
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=4096)
def parse_path(arg: str) -> tuple[str | None, str | None]:
    """Parse the address of a MAIL or RCPT argument as aiosmtpd does; return (address, rest).

    Same parser as aiosmtpd's own _getaddr (the email package's), with two differences:
    aiosmtpd defines a typing.Protocol class on every call, about 5 % of ingest time, and
    lets the parser's IndexError on input such as "MAIL FROM:\\0@" escape as a 451. The
    result depends on the argument alone and senders and recipients repeat, hence the cache.
    """
    if not arg:
        return "", ""
    address: Any
    try:
        if arg.lstrip().startswith("<"):
            address, rest = get_angle_addr(arg)
        else:
            address, rest = get_addr_spec(arg)
    except (HeaderParseError, IndexError, ValueError):
        return None, None
    return address.addr_spec, rest
