"""Running the SMTP listeners on an asyncio loop: bind, report real addresses, stop cleanly."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
from collections.abc import Callable

from mailtrap_lite.config import Address, BindError, Config, format_hostport
from mailtrap_lite.smtp import replies
from mailtrap_lite.smtp.faults import FaultRules
from mailtrap_lite.smtp.handler import CaptureHandler
from mailtrap_lite.smtp.observer import SMTPObserver
from mailtrap_lite.smtp.protocol import CaptureSMTP
from mailtrap_lite.smtp.tls import ServerTLS, open_tls
from mailtrap_lite.store import Store

log = logging.getLogger(__name__)


class SMTPServer:
    """The SMTP listeners of one instance, sharing one capture handler and Store.

    `faults` holds the fault rules; change them while it runs (`faults.replace(...)`).
    """

    def __init__(self, store: Store, config: Config, observer: SMTPObserver | None = None) -> None:
        self.config = config
        self.store = store
        self.handler = CaptureHandler(store, config, observer)
        self.faults = FaultRules(config.faults)
        self.tls: ServerTLS | None = None
        self._servers: list[asyncio.Server] = []
        self.addresses: list[tuple[str, int]] = []
        self.smtps_addresses: list[tuple[str, int]] = []

    @property
    def address(self) -> str:
        """Return the first bound address as HOST:PORT."""
        host, port = self.addresses[0]
        return format_hostport(host, port)

    @property
    def smtps_address(self) -> str | None:
        """Return the first bound implicit-TLS address as HOST:PORT, if there is one."""
        if not self.smtps_addresses:
            return None
        return format_hostport(*self.smtps_addresses[0])

    async def start(self) -> None:
        """Bind every host of --smtp (and --smtps); port 0 binds one free port for all hosts."""
        self.tls = open_tls(self.config, self.store.path, self.store.temporary)
        self.addresses += await self._listen(self.config.smtp, self._protocol)
        if self.config.smtps is not None:
            assert self.tls is not None  # open_tls refuses --smtps without a certificate
            self.smtps_addresses += await self._listen(
                self.config.smtps, self._implicit_tls_protocol, self.tls.context
            )

    async def _listen(
        self,
        address: Address,
        factory: Callable[[], CaptureSMTP],
        context: ssl.SSLContext | None = None,
    ) -> list[tuple[str, int]]:
        port = address.port
        bound_addresses = []
        for index, host in enumerate(address.hosts()):
            try:
                server = await _bind(factory, host, port, context, self.config.idle_timeout)
            except BindError:
                if address.host == "localhost" and index > 0:
                    continue  # no IPv6 loopback here: 127.0.0.1 alone serves "localhost"
                raise
            self._servers.append(server)
            bound = server.sockets[0].getsockname()
            port = bound[1]
            bound_addresses.append((bound[0], port))
        return bound_addresses

    def _protocol(self) -> CaptureSMTP:
        context = self.tls.context if self.tls is not None else None
        return CaptureSMTP(self.handler, self.config, faults=self.faults, tls_context=context)

    def _implicit_tls_protocol(self) -> CaptureSMTP:
        return CaptureSMTP(self.handler, self.config, faults=self.faults, implicit_tls=True)

    async def stop(self) -> None:
        """Stop listening, close open sessions with 421 (recorded as shutdown), wait for them."""
        for server in self._servers:
            server.close()
        live = list(self.handler.live)
        for protocol in live:
            if protocol.conversation is not None:
                protocol.conversation.end_reason = "shutdown"
            protocol.say_goodbye(replies.SHUTTING_DOWN.format(host=self.config.hostname))
        for server in self._servers:
            await server.wait_closed()
        for _ in range(100):  # connection_lost runs on the next loop iterations
            if not self.handler.live:
                break
            await asyncio.sleep(0.01)
        await self.handler.commits.drain()  # what was queued is committed before the Store closes
        self._servers.clear()
        if self.tls is not None:
            self.tls.close()


async def _bind(
    factory: Callable[[], CaptureSMTP],
    host: str,
    port: int,
    context: ssl.SSLContext | None,
    idle_timeout: float,
) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return await loop.create_server(
            factory, host, port, family=family, reuse_address=True, backlog=1024,
            ssl=context, ssl_handshake_timeout=idle_timeout if context is not None else None,
        )  # fmt: skip
    except OSError as error:
        raise BindError(error.errno, _bind_message(host, port, error)) from error


def _bind_message(host: str, port: int, error: OSError) -> str:
    where = format_hostport(host, port)
    if error.errno == errno.EADDRINUSE:
        return f"cannot listen on {where}: address already in use"
    if error.errno == errno.EACCES:
        return f"cannot listen on {where}: permission denied"
    return f"cannot listen on {where}: {error.strerror or error}"
