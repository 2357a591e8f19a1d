"""`mailtrap-lite check FILE.eml…`: the report of files, and its exit status, in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.apiserver import make_message
from tests.checkmail import KEY_NAME, SIGNED, UNSUBSCRIBE, clean_message, crlf, sign, signing_key
from tests.process import run_cli


def _write(tmp_path: Path, name: str, raw: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(raw)
    return str(path)


def test_file_without_failures_exits_0(tmp_path: Path) -> None:
    path = _write(tmp_path, "order.eml", clean_message().as_bytes())  # LF line ends, as saved
    result = run_cli("check", path)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith(f"{path}: 0 failed, 1 warning, ")
    assert "WARN  authentication.dkim: Not DKIM-signed" in result.stdout


def test_file_with_a_failing_check_exits_1_and_says_why(tmp_path: Path) -> None:
    path = _write(tmp_path, "welcome.eml", crlf(make_message("Welcome {{ name }}")))
    result = run_cli("check", path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{path}: 3 failed, 1 warning, ")
    assert "  FAIL  content.placeholders: Unreplaced template placeholder" in lines
    assert "        '{{ name }}' in the subject: …Welcome {{ name }}…" in lines


def test_one_failing_file_among_several_exits_1(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.eml", crlf(clean_message()))
    bad = _write(tmp_path, "bad.eml", crlf(make_message("Hi %FIRSTNAME%")))
    result = run_cli("check", "--format", "json", good, bad)
    assert result.returncode == 1
    files = json.loads(result.stdout)["files"]
    assert [(f["file"], f["summary"]["fail"] > 0) for f in files] == [(good, False), (bad, True)]


def test_dkim_key_flag_verifies_a_signed_file(tmp_path: Path) -> None:
    key = _write(tmp_path, "s1.pem", signing_key().private_pem)
    signed = sign(crlf(clean_message()), headers=SIGNED + UNSUBSCRIBE)
    path = _write(tmp_path, "signed.eml", signed)
    result = run_cli("check", "--format", "json", "--dkim-key", f"{KEY_NAME}={key}", path)
    assert result.returncode == 0, result.stdout
    [report] = json.loads(result.stdout)["files"]
    [dkim] = [c for c in report["checks"] if c["id"] == "authentication.dkim"]
    assert dkim["status"] == "pass"


def test_dkim_key_from_the_environment(tmp_path: Path) -> None:
    key = _write(tmp_path, "s1.txt", signing_key().record.encode())
    path = _write(tmp_path, "signed.eml", sign(crlf(clean_message())))
    result = run_cli("check", "--format", "json", path,
                     env={"MAILTRAP_LITE_DKIM_KEY": f"{KEY_NAME}={key}"})  # fmt: skip
    [report] = json.loads(result.stdout)["files"]
    assert [c["status"] for c in report["checks"] if c["id"] == "authentication.dkim"] == ["pass"]


def test_text_output_counts_passed_checks_without_listing_them(tmp_path: Path) -> None:
    result = run_cli("check", _write(tmp_path, "order.eml", crlf(clean_message())))
    passed = int(result.stdout.splitlines()[0].split(", ")[-1].removesuffix(" passed"))
    assert passed > 10
    assert [line for line in result.stdout.splitlines() if line.startswith("  pass")] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "mailtrap-lite: error: the following arguments are required: FILE.eml; see --help"),
        (("missing.eml",), "mailtrap-lite: cannot read missing.eml: No such file or directory"),
        (("--format", "xml", "x.eml"), "mailtrap-lite: error: --format: expected one of text,"),
        (("--dkim-key", f"{KEY_NAME}=nokey.pem", "x.eml"), "--dkim-key: cannot read nokey.pem"),
        (("--spamd", "localhost:x", "x.eml"), "--spamd: bad address"),
    ],
)
def test_usage_errors_exit_2_in_one_line(args: tuple[str, ...], message: str) -> None:
    result = run_cli("check", *args)  # none of these files exist
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert message in result.stderr


def test_help_describes_the_options() -> None:
    result = run_cli("check", "--help")
    assert result.returncode == 0
    for flag in ("--format", "--dkim-key", "--spamd", "MAILTRAP_LITE_DKIM_KEY"):
        assert flag in result.stdout
