"""A raw-socket SMTP client for scripted conversations: exact bytes out, whole replies in."""

from __future__ import annotations

import socket
from dataclasses import dataclass


@dataclass
class Reply:
    """One SMTP reply: its code and its lines (without the code prefix)."""

    code: int
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class Wire:
    """Talk SMTP byte by byte, so tests can send what real clients would refuse to."""

    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self._buffer = b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def line(self) -> bytes:
        while b"\r\n" not in self._buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed; unread: {self._buffer!r}")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        return line

    def reply(self) -> Reply:
        lines: list[str] = []
        while True:
            raw = self.line().decode("utf-8", "replace")
            lines.append(raw[4:])
            if raw[3:4] != "-":
                return Reply(int(raw[:3]), lines)

    def cmd(self, command: str | bytes) -> Reply:
        data = command.encode() if isinstance(command, str) else command
        self.send(data + b"\r\n")
        return self.reply()

    def closed_by_server(self) -> bool:
        """Return True once the server has closed the connection."""
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, TimeoutError):
            return True


def greet(host: str, port: int) -> Wire:
    """Connect, read the greeting and say EHLO."""
    wire = Wire(host, port)
    assert wire.reply().code == 220
    assert wire.cmd("EHLO client.test").code == 250
    return wire


def send_data(wire: Wire, payload: bytes, sender: str = "a@example.com",
              rcpts: tuple[str, ...] = ("b@example.com",)) -> Reply:  # fmt: skip
    """Run MAIL/RCPT/DATA and send payload as is (it must end with CRLF.CRLF)."""
    assert wire.cmd(f"MAIL FROM:<{sender}>").code == 250
    for rcpt in rcpts:
        assert wire.cmd(f"RCPT TO:<{rcpt}>").code == 250
    assert wire.cmd("DATA").code == 354
    wire.send(payload)
    return wire.reply()
