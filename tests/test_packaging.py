"""The wheel as users get it: built, installed into a fresh virtual environment, and used.

A module or a package-data file (template, stylesheet, schema, OpenAPI document) missing
from the wheel would pass every other test, because they run against the source tree. This
one installs the built wheel where the source tree is out of reach and runs the command
line, a send-and-list round trip through the web API and UI, and one test of the plugin.
"""

from __future__ import annotations

import json
import os
import smtplib
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.process import ServerProcess, start_server

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.packaging

PLUGIN_TEST = """
import smtplib

def test_mail_is_captured(smtp_sink):
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port) as client:
        client.sendmail("app@example.com", ["ada@example.com"], b"Subject: hi\\r\\n\\r\\nhi\\r\\n")
    assert smtp_sink.wait_for(to="ada@example.com").subject == "hi"
"""


def run(*args: str | Path, cwd: Path | None = None, timeout: float = 600) -> str:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                            timeout=timeout, check=False, env=_clean_env())  # fmt: skip
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _clean_env() -> dict[str, str]:
    """Return the environment without anything that would point Python at the source tree."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Build the wheel and install it, with pytest, into a new virtual environment."""
    work = tmp_path_factory.mktemp("packaging")
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", work / "dist", ROOT)
    [wheel] = (work / "dist").glob("mailtrap_lite-*.whl")
    run(sys.executable, "-m", "venv", work / "venv")
    python = work / "venv" / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel, "pytest")
    yield work / "venv"


def test_the_installed_package_comes_from_the_wheel(venv: Path) -> None:
    script = "import mailtrap_lite; print(mailtrap_lite.__file__)"
    where = run(venv / "bin" / "python", "-c", script, cwd=venv)
    assert Path(where.strip()).is_relative_to(venv)


def test_the_console_script_reports_its_version(venv: Path) -> None:
    from mailtrap_lite.version import __version__

    assert (
        run(venv / "bin" / "mailtrap-lite", "--version").strip() == f"mailtrap-lite {__version__}"
    )


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return reply.status, reply.read()


def test_a_message_sent_to_the_installed_server_is_listed(venv: Path, tmp_path: Path) -> None:
    server: ServerProcess = start_server(
        "--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--db", str(tmp_path / "mail.db"),
        command=[str(venv / "bin" / "mailtrap-lite")], env=_clean_env(), cwd=tmp_path,
    )  # fmt: skip
    try:
        host, port = server.smtp
        with smtplib.SMTP(host, port) as client:
            client.sendmail("app@example.com", ["ada@example.com"], b"Subject: Wheel\r\n\r\nhi\r\n")
        base = server.info["http"]
        _, body = _get(f"{base}/api/v1/messages")
        assert [m["subject"] for m in json.loads(body)["messages"]] == ["Wheel"]
        status, page = _get(f"{base}/")  # templates are package data
        assert status == 200 and b"Wheel" in page
        assert _get(f"{base}/assets/ui.css")[0] == 200  # so are the static files
        assert json.loads(_get(f"{base}/api/v1/openapi.json")[1])["openapi"].startswith("3.1")
    finally:
        code, err = server.stop()
    assert code == 0, err


def test_the_installed_plugin_runs_a_test(venv: Path, tmp_path: Path) -> None:
    (tmp_path / "test_installed_plugin.py").write_text(PLUGIN_TEST)
    output = run(venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 "test_installed_plugin.py", cwd=tmp_path)  # fmt: skip
    assert "1 passed" in output
