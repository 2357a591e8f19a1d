"""Link checks, all static: the links of the read model are looked at, never followed.

Following a link, even with HEAD, would send traffic off the machine to whatever a message
names (an SSRF for a shared sink), so nothing here opens a connection (SECURITY.md).
"""

from __future__ import annotations

import re

from mailtrap_lite.checks.domains import is_ip_address, organizational_domain, url_host
from mailtrap_lite.checks.report import PASS, WARN, Check, check, listed
from mailtrap_lite.mime.links import Link

# Visible text that names a host: "example.com", "www.shop.example/path", "https://x.example"
_NAMED_HOST = re.compile(
    r"^(?:https?://)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62})(?:[/:?#]\S*)?$",
    re.IGNORECASE,
)


# Links judged one by one at most (Mailpit's link check stops at 100 too), so a message with
# thousands of links costs a bounded amount.
MAX_JUDGED_LINKS = 100


def link_checks(links: list[Link]) -> list[Check]:
    """Return the link-text, http: and IP-address checks of a message's links."""
    web = [link for link in links if link.kind == "web"]
    return [link_text_check(web), http_links_check(web), ip_links_check(web)]


def each_link_checked(links: list[Link]) -> list[tuple[str, list[Check]]]:
    """Return each web link's URL (in order, at most MAX_JUDGED_LINKS) with the checks above
    that this link alone does not pass: the report's link checks, link by link."""
    web = [link for link in links if link.kind == "web"][:MAX_JUDGED_LINKS]
    return [(link.url, [c for c in link_checks([link]) if c.status != PASS]) for link in web]


def named_host(text: str) -> str | None:
    """Return the host a link's visible text names ("Visit example.com" names none)."""
    match = _NAMED_HOST.match(text.strip())
    return match.group(1).lower() if match else None


def link_text_check(links: list[Link]) -> Check:
    """Check that no link's visible text names another domain than the link's target."""
    ref = "Phishing heuristic of receivers: link text naming another domain than its target"
    mismatched = []
    for link in links:
        shown, target = named_host(link.text), url_host(link.url)
        if shown and target and organizational_domain(shown) != organizational_domain(target):
            mismatched.append(f"“{link.text}” goes to {target}")
    if mismatched:
        return check(
            "content.link-text",
            WARN,
            "Link text names another domain",
            f"{listed(mismatched)}. Readers and filters take this for phishing;"
            " click tracking on another domain does it too.",
            ref,
        )
    return check(
        "content.link-text",
        PASS,
        "Link texts match their targets",
        f"{len(links)} web link(s).",
        ref,
    )


def http_links_check(links: list[Link]) -> Check:
    """Check that web links use https."""
    ref = "RFC 9110 §4.2.2; browsers mark http: pages “Not secure”"
    plain = [link.url for link in links if link.url.lower().startswith("http:")]
    if plain:
        return check(
            "content.http-links", WARN, f"{len(plain)} link(s) without https", listed(plain), ref
        )
    return check(
        "content.http-links", PASS, "Every web link uses https", f"{len(links)} web link(s).", ref
    )


def ip_links_check(links: list[Link]) -> Check:
    """Check that no link points at a bare IP address."""
    ref = "SpamAssassin NUMERIC_HTTP_ADDR, NORMAL_HTTP_TO_IP"
    numeric = [link.url for link in links if is_ip_address(url_host(link.url))]
    if numeric:
        return check(
            "content.ip-links",
            WARN,
            f"{len(numeric)} link(s) to an IP address",
            f"{listed(numeric)}. Filters score numeric hosts; in development this"
            " often means the application's base URL is not set.",
            ref,
        )
    return check(
        "content.ip-links", PASS, "No links to IP addresses", f"{len(links)} web link(s).", ref
    )
