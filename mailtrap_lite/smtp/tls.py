"""TLS for STARTTLS and implicit TLS: the server's SSLContext and a self-signed certificate.

`--tls-cert`/`--tls-key` use the user's files. `--tls-self-signed` generates, once, a
certificate for localhost, 127.0.0.1 and ::1 next to the database (in a temporary directory
for a temporary database) and prints its path, so clients can trust exactly that file.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mailtrap_lite.config import Config, ConfigError

if TYPE_CHECKING:  # cryptography loads on first use (~0.3 s): only --tls-self-signed needs it
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

# Some clients (Apple's) refuse server certificates valid for more than 825 days.
VALIDITY = dt.timedelta(days=825)
RENEW_BEFORE = dt.timedelta(days=1)
NAMES = ("localhost",)
ADDRESSES = ("127.0.0.1", "::1")


@dataclass
class ServerTLS:
    """The certificate in use, its server context, and a temporary directory to remove."""

    cert: Path
    key: Path
    context: ssl.SSLContext
    temporary_dir: Path | None = None

    def close(self) -> None:
        """Remove a temporary certificate directory."""
        if self.temporary_dir is not None:
            shutil.rmtree(self.temporary_dir, ignore_errors=True)
            self.temporary_dir = None


def open_tls(config: Config, db_path: Path, temporary_db: bool) -> ServerTLS | None:
    """Return the TLS setting of this instance, or None when no certificate is configured."""
    check_tls_settings(config)
    if config.tls_cert is not None and config.tls_key is not None:
        context = server_context(config.tls_cert, config.tls_key)
        return ServerTLS(config.tls_cert, config.tls_key, context)
    if not config.tls_self_signed:
        return None
    temporary = Path(tempfile.mkdtemp(prefix="mailtrap-lite-tls-")) if temporary_db else None
    directory = temporary or db_path.parent
    stem = "mailtrap-lite" if temporary else db_path.stem
    cert, key = directory / f"{stem}-cert.pem", directory / f"{stem}-key.pem"
    try:
        if not _usable(cert, key):
            write_self_signed(cert, key)
        return ServerTLS(cert, key, server_context(cert, key), temporary)
    except BaseException:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
        raise


def check_tls_settings(config: Config) -> None:
    """Refuse settings that cannot work together, with a message naming the flags."""
    if (config.tls_cert is None) != (config.tls_key is None):
        raise ConfigError("--tls-cert and --tls-key go together: give both")
    if config.tls_cert is not None and config.tls_self_signed:
        raise ConfigError("give either --tls-cert/--tls-key or --tls-self-signed, not both")
    needs = [flag for flag, wanted in (("--smtps", config.smtps is not None),
             ("--require-tls", config.require_tls),
             ("--auth-require-tls", config.auth_require_tls)) if wanted]  # fmt: skip
    if needs and not config.has_certificate:
        raise ConfigError(
            f"{needs[0]} needs a certificate: give --tls-cert and --tls-key, or --tls-self-signed"
        )


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """Return a server context with the certificate and key; ConfigError when unusable."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except FileNotFoundError as error:
        raise ConfigError(f"cannot read TLS file {error.filename}: no such file") from None
    except (OSError, ssl.SSLError) as error:
        reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or error
        raise ConfigError(f"cannot use TLS certificate {cert} with key {key}: {reason}") from None
    return context


def client_context(cert: Path) -> ssl.SSLContext:
    """Return a client context that trusts this certificate, with verification on."""
    return ssl.create_default_context(cafile=str(cert))


def _usable(cert: Path, key: Path) -> bool:
    """Tell whether a certificate generated earlier exists and is not about to expire."""
    if not (cert.is_file() and key.is_file()):
        return False
    from cryptography import x509

    try:
        loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    except (OSError, ValueError):
        return False
    return loaded.not_valid_after_utc - RENEW_BEFORE > dt.datetime.now(dt.UTC)


def write_self_signed(cert: Path, key: Path) -> None:
    """Generate a key and a self-signed certificate for localhost, 127.0.0.1 and ::1."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private_key = ec.generate_private_key(ec.SECP256R1())
    certificate = _certificate(private_key)
    try:
        cert.parent.mkdir(parents=True, exist_ok=True)
        _write(key, private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ), mode=0o600)  # fmt: skip
        _write(cert, certificate.public_bytes(serialization.Encoding.PEM), mode=0o644)
    except OSError as error:
        where = cert.parent
        raise ConfigError(
            f"cannot write the TLS certificate in {where}: {error.strerror}"
        ) from None


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as file:
        file.write(data)


def _certificate(private_key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, NAMES[0]),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mailtrap-lite (self-signed)"),
    ])  # fmt: skip
    alternative_names: list[x509.GeneralName] = [x509.DNSName(n) for n in NAMES]
    alternative_names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ADDRESSES]
    public_key = private_key.public_key()
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # tolerate clock skew
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
        )
        .sign(private_key, hashes.SHA256())
    )


def _key_usage() -> x509.KeyUsage:
    from cryptography import x509

    # A certificate that is its own trust anchor signs itself (key_cert_sign) and serves TLS.
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
