"""DKIM verified offline with keys given to the sink, and alignment with the From domain.

Messages are signed here with dkimpy and a key made here, then sent over SMTP or checked as
files; keys reach the sink as records (Config.dkim_keys, --dkim-key), never through DNS.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mailtrap_lite.checks import read_key_option
from mailtrap_lite.checks.dkimkeys import KeyRing, zone_records
from tests.apiserver import send_mail
from tests.checkmail import (
    DOMAIN,
    KEY_NAME,
    check_bytes,
    clean_message,
    crlf,
    found,
    keys_for,
    sign,
    signing_key,
    status,
)


def test_signature_made_with_the_configured_key_verifies_over_smtp(make_sink) -> None:
    sink = make_sink(dkim_keys=keys_for())
    send_mail(sink, sign(crlf(clean_message())), sender=f"hello@{DOMAIN}")
    [message] = sink.wait_for()
    report = message.checks()
    assert found(report, "authentication.dkim") == [
        "pass: DKIM signature verified: d=shop.example.com s=s1 — rsa-sha256, 2048-bit key;"
        " signed headers: from, to, subject, date, message-id."
    ]
    assert status(report, "authentication.alignment") == "pass"


def test_body_changed_after_signing_fails_with_body_hash_mismatch(make_sink) -> None:
    sink = make_sink(dkim_keys=keys_for())
    signed = sign(crlf(clean_message()))
    tampered = signed.replace(b"order 1042 has shipped", b"order 9999 has shipped")
    assert tampered != signed
    send_mail(sink, tampered)
    [message] = sink.wait_for()
    [result] = found(message.checks(), "authentication.dkim")
    assert result.startswith("fail: DKIM signature broken: d=shop.example.com s=s1")
    assert "body hash does not match" in result


def test_signed_header_changed_after_signing_fails() -> None:
    signed = sign(crlf(clean_message()))
    tampered = signed.replace(b"Subject: Your order has shipped", b"Subject: Your order is lost")
    [result] = found(check_bytes(tampered, keys_for()), "authentication.dkim")
    assert result.startswith("fail: DKIM signature does not verify: d=shop.example.com s=s1")


def test_signature_checked_with_another_key_fails() -> None:
    signed = sign(crlf(clean_message()))
    other = keys_for(key=signing_key(1024))
    assert status(check_bytes(signed, other), "authentication.dkim") == "fail"


def test_unknown_key_is_info_naming_the_key_to_configure() -> None:
    [result] = found(check_bytes(sign(crlf(clean_message()))), "authentication.dkim")
    assert result.startswith(f"info: DKIM key unknown: d={DOMAIN} s=s1")
    assert f"--dkim-key {KEY_NAME}=FILE" in result


def test_unsigned_mail_warns() -> None:
    report = check_bytes(crlf(clean_message()))
    assert status(report, "authentication.dkim") == "warn"
    assert status(report, "authentication.alignment") == "info"


def test_rsa_sha1_signature_fails_even_when_it_verifies() -> None:
    signed = sign(crlf(clean_message()), signature_algorithm=b"rsa-sha1")
    [result] = found(check_bytes(signed, keys_for()), "authentication.dkim")
    assert result.startswith("fail: DKIM signature uses rsa-sha1")


def test_signature_with_a_1024_bit_key_warns() -> None:
    small = signing_key(1024)
    signed = sign(crlf(clean_message()), key=small)
    [result] = found(check_bytes(signed, keys_for(key=small)), "authentication.dkim")
    assert result.startswith("warn: DKIM signature verified") and "1024-bit key" in result


def test_signature_with_a_body_length_tag_warns() -> None:
    signed = sign(crlf(clean_message()), length=True)
    [result] = found(check_bytes(signed, keys_for()), "authentication.dkim")
    assert result.startswith("warn: DKIM signature verified") and "l= tag" in result


def test_malformed_signature_header_fails() -> None:
    raw = b"DKIM-Signature: v=1; a=rsa-sha256; d=shop.example.com\r\n" + crlf(clean_message())
    [result] = found(check_bytes(raw, keys_for()), "authentication.dkim")
    assert result.startswith("fail: Malformed DKIM signature: d=shop.example.com s=?")
    assert "required tags missing: b=, bh=, h=, s=" in result


def test_each_signature_is_reported() -> None:
    other = signing_key(1024)
    twice = sign(sign(crlf(clean_message())), domain="esp.example.net", key=other)
    keys = keys_for() + keys_for(domain="esp.example.net", key=other)
    titles = found(check_bytes(twice, keys), "authentication.dkim")
    assert [t.split(" — ")[0] for t in titles] == [
        "warn: DKIM signature verified: d=esp.example.net s=s1",  # 1024-bit
        "pass: DKIM signature verified: d=shop.example.com s=s1",
    ]


@pytest.mark.parametrize(
    ("signer", "from_domain", "expected"),
    [
        ("shop.example.com", "shop.example.com", "pass"),  # strict
        ("mail.shop.example.com", "shop.example.com", "pass"),  # relaxed: same org domain
        ("shop.example.co.uk", "news.shop.example.co.uk", "pass"),  # co.uk is a suffix
        ("esp.example.net", "shop.example.com", "warn"),  # signed by someone else
        ("alice.github.io", "bob.github.io", "warn"),  # github.io is a public suffix
    ],
)
def test_alignment_follows_the_organizational_domain(signer, from_domain, expected) -> None:
    message = clean_message(From=f"Shop <hello@{from_domain}>")
    signed = sign(crlf(message), domain=signer)
    report = check_bytes(signed, keys_for(domain=signer))
    assert status(report, "authentication.dkim") == "pass"
    assert status(report, "authentication.alignment") == expected


def test_aligned_signature_with_unknown_key_leaves_alignment_open() -> None:
    report = check_bytes(sign(crlf(clean_message())))
    assert status(report, "authentication.alignment") == "info"


# -- keys: --dkim-key files --------------------------------------------------------------------


def _public_pem() -> str:
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_pem_private_key(signing_key().private_pem, password=None)
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.mark.parametrize("form", ["public PEM", "private PEM", "TXT value", "quoted TXT"])
def test_key_file_in_every_form_verifies(tmp_path: Path, form: str) -> None:
    record = signing_key().record
    text = {
        "public PEM": _public_pem(),
        "private PEM": signing_key().private_pem.decode(),
        "TXT value": record,
        "quoted TXT": f'"{record[:40]}" "{record[40:]}"',
    }[form]
    path = tmp_path / "key"
    path.write_text(text)
    records = read_key_option(f"{KEY_NAME}={path}")
    assert [name for name, _ in records] == [KEY_NAME]
    report = check_bytes(sign(crlf(clean_message())), tuple(records))
    assert status(report, "authentication.dkim") == "pass"


def test_zone_file_gives_every_domainkey_record(tmp_path: Path) -> None:
    record = signing_key().record
    zone = tmp_path / "example.zone"
    zone.write_text(
        "$ORIGIN shop.example.com.\n$TTL 3600\n"
        "@        IN MX 10 mx.shop.example.com.\n"
        f's1._domainkey IN TXT ( "{record[:30]}" ; split as DNS exports do\n'
        f'                       "{record[30:]}" )\n'
        f's2._domainkey.other.example. 300 IN TXT "{record}"\n'
    )
    records = read_key_option(str(zone))
    assert [name for name, _ in records] == [KEY_NAME, "s2._domainkey.other.example"]
    report = check_bytes(sign(crlf(clean_message())), tuple(records))
    assert status(report, "authentication.dkim") == "pass"


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), ("hello", "no p= tag"), ("v=DKIM1; p=AAAA", "not a usable DKIM key")],
)
def test_unusable_key_file_is_refused_with_its_name(tmp_path: Path, content, message) -> None:
    path = tmp_path / "key.txt"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValueError, match=message) as raised:
        read_key_option(f"{KEY_NAME}={path}")
    assert str(path) in str(raised.value)


def test_zone_file_without_domainkey_records_is_refused(tmp_path: Path) -> None:
    zone = tmp_path / "empty.zone"
    zone.write_text("@ IN A 192.0.2.1\n")
    assert zone_records(zone.read_text()) == []
    with pytest.raises(ValueError, match="no TXT record"):
        read_key_option(str(zone))


def test_key_lookup_answers_from_records_and_remembers_misses() -> None:
    lookup = KeyRing([(KEY_NAME.upper() + ".", "v=DKIM1; p=AB")]).lookup()
    assert lookup(f"{KEY_NAME}.".encode()) == b"v=DKIM1; p=AB"
    assert lookup(b"s9._domainkey.example.org.") is None
    assert lookup.missing == {"s9._domainkey.example.org"}


def test_a_signature_in_a_header_block_over_the_bound_is_unreadable_not_verified() -> None:
    signed = sign(crlf(clean_message()))
    fields = b"".join(b"X-Filler-%d: x\r\n" % n for n in range(80_000))  # over 1 MiB
    [result] = found(check_bytes(fields + signed, keys_for()), "authentication.dkim")
    assert "the header block is over 1,048,576 bytes; it was not verified" in result


def test_a_header_block_over_the_bound_without_a_signature_is_unsigned() -> None:
    fields = b"".join(b"X-Filler-%d: x\r\n" % n for n in range(80_000))
    report = check_bytes(fields + crlf(clean_message()), keys_for())
    assert status(report, "authentication.dkim") == "warn"
