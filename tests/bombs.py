"""Hostile messages for the bomb tests: deep, wide, long, or compressed far beyond their size."""

from __future__ import annotations

import base64
import gzip
import io
import struct
import zipfile
import zlib

HEAD = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: bomb\r\n"


def nested_multiparts(depth: int) -> bytes:
    """Return a message with `depth` multiparts, each inside the one before."""
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (n, n)
        for n in range(depth)
    )
    closing = b"".join(b"\r\n--b%d--\r\n" % n for n in reversed(range(depth)))
    return HEAD + opening + b"Content-Type: text/plain\r\n\r\ndeep inside\r\n" + closing


def one_line(size: int) -> bytes:
    """Return a message whose body is a single line of `size` octets."""
    return HEAD + b"\r\n" + b"x" * size + b"\r\n"


def many_parts(count: int) -> bytes:
    """Return a multipart message with `count` small text parts."""
    parts = b"".join(
        b"--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % n for n in range(count)
    )
    return HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + parts + b"--b--\r\n"


def big_header(size: int) -> bytes:
    """Return a message with one header of `size` octets (one line)."""
    return HEAD + b"X-Big: " + b"h" * size + b"\r\n\r\nbody\r\n"


def many_headers(count: int) -> bytes:
    """Return a message with `count` headers."""
    return HEAD + b"".join(b"X-H%d: v\r\n" % n for n in range(count)) + b"\r\nbody\r\n"


def compressed_attachments(expanded: int) -> bytes:
    """Return a message with zip, gzip and PNG attachments that expand to `expanded` octets.

    Nothing in mailtrap-lite decompresses or decodes images, so they stay their small size.
    """
    attachments = [
        ("bomb.zip", "application/zip", _zip_of_zeros(expanded)),
        ("bomb.gz", "application/gzip", gzip.compress(b"\0" * expanded, compresslevel=9)),
        ("huge.png", "image/png", _png_claiming(50_000, 50_000)),
    ]
    parts = b"".join(_base64_part(*attachment) for attachment in attachments)
    mixed = b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    return (
        HEAD
        + mixed
        + b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        + parts
        + (b"--b--\r\n")
    )


def _base64_part(filename: str, ctype: str, data: bytes) -> bytes:
    encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
    return (
        f"--b\r\nContent-Type: {ctype}\r\nContent-Transfer-Encoding: base64\r\n"
        f'Content-Disposition: attachment; filename="{filename}"\r\n\r\n'
    ).encode() + encoded


def _zip_of_zeros(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("zeros.bin", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(size // len(chunk)):
                member.write(chunk)
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """Return a tiny PNG whose header claims a huge image (a decoder would allocate it)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
