"""How we fit aiosmtpd, the protocol engine: the hooks it looks up by name, its log notices."""

from __future__ import annotations

import logging


def hook_names(cls: type, prefixes: tuple[str, ...]) -> list[str]:
    """Return the attribute names of a class that start with one of `prefixes` (listed once)."""
    key = (cls, prefixes)
    names = _HOOK_NAMES.get(key)
    if names is None:
        names = _HOOK_NAMES[key] = tuple(n for n in dir(cls) if n.startswith(prefixes))
    return list(names)


_HOOK_NAMES: dict[tuple[type, tuple[str, ...]], tuple[str, ...]] = {}


class _LoginDataNotice(logging.Filter):
    """Drop aiosmtpd's notice that its own AUTH code sets a deprecated attribute."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Session.login_data is deprecated")


def quiet_aiosmtpd_notices() -> None:
    """Keep aiosmtpd's per-AUTH deprecation notice (about its own code) out of our log."""
    logger = logging.getLogger("mail.log")
    if not any(isinstance(f, _LoginDataNotice) for f in logger.filters):
        logger.addFilter(_LoginDataNotice())
