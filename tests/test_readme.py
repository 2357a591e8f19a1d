"""Every example the README shows runs, so the documentation cannot drift from the product.

Each fenced block says its language. `python` blocks that define tests stand verbatim in a
file of tests/examples/, which pytest runs; the other `python` blocks and every `sh` command
run here against a real `mailtrap-lite` started with HOME in a temporary folder, so paths
such as ~/.local/share/mailtrap-lite/ are real. Only the fixed ports of the examples are
swapped for the server's free ones (and /home/me for that HOME). `text` blocks show output.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mailtrap_lite.smtp.faults import parse_rule
from tests.checkmail import clean_message, crlf, sign, signing_key
from tests.process import ServerProcess, start_server

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
EXAMPLES = ROOT / "tests" / "examples"
LANGUAGES = {"python", "sh", "text"}
SHOWN_ONLY = {"toml", "yaml", "ini"}  # files to copy (a relay config, a CI job, a unit)
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Block:
    """One fenced block of the README: its language, its text and the line it starts on."""

    language: str
    text: str
    line: int

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.language})"


def readme_blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    return [
        Block(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1)
        for m in _FENCE.finditer(text)
    ]


BLOCKS = readme_blocks()


_TEST_CODE = re.compile(r"^\s*(?:def test_|class \w+\(unittest)", re.MULTILINE)


def is_test_code(block: Block) -> bool:
    return block.language == "python" and _TEST_CODE.search(block.text) is not None


TEST_BLOCKS = [b for b in BLOCKS if is_test_code(b)]
RUN_BLOCKS = [b for b in BLOCKS if b.language == "python" and not is_test_code(b)]
COMMANDS = [
    (block, command)
    for block in BLOCKS
    if block.language == "sh"
    for command in block.text.replace("\\\n", " ").splitlines()
    if command.strip()
]


def test_every_block_says_what_it_holds() -> None:
    assert [str(b) for b in BLOCKS if b.language not in LANGUAGES | SHOWN_ONLY] == []
    assert TEST_BLOCKS and RUN_BLOCKS and COMMANDS


# -- python test code: verbatim in tests/examples/ ----------------------------------------------


def _dedented_windows(lines: list[str], size: int) -> Iterator[list[str]]:
    for start in range(len(lines) - size + 1):
        window = lines[start : start + size]
        indents = [len(line) - len(line.lstrip()) for line in window if line.strip()]
        cut = min(indents, default=0)
        yield [line[cut:] for line in window]


def _stands_in(block_lines: list[str], path: Path) -> bool:
    lines = [line.rstrip() for line in path.read_text(encoding="utf-8").splitlines()]
    return any(window == block_lines for window in _dedented_windows(lines, len(block_lines)))


@pytest.mark.parametrize("block", TEST_BLOCKS, ids=str)
def test_python_test_example_stands_verbatim_in_tests_examples(block: Block) -> None:
    block_lines = [line.rstrip() for line in block.text.splitlines()]
    found = [p.name for p in sorted(EXAMPLES.glob("test_*.py")) if _stands_in(block_lines, p)]
    assert found, f"{block} is in no file of tests/examples/"


# -- a real server for the other examples -------------------------------------------------------


@dataclass
class Live:
    """A `mailtrap-lite` started as the README starts one, with HOME in a temporary folder."""

    server: ServerProcess
    home: Path
    env: dict[str, str]

    @property
    def smtp_port(self) -> int:
        return self.server.smtp[1]

    @property
    def http_port(self) -> int:
        return int(self.server.info["http"].rpartition(":")[2])

    def localize(self, text: str) -> str:
        """Swap the example's fixed ports and home folder for this server's."""
        text = re.sub(r"\b1025\b", str(self.smtp_port), text)
        text = re.sub(r"\b8025\b", str(self.http_port), text)
        text = re.sub(r"\b1465\b", "0", text)
        text = re.sub(r"\b802[67]\b", "0", text)  # the compatible APIs' listeners
        return text.replace("/home/me", str(self.home))


def _environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILTRAP_LITE_")}
    env.pop("XDG_DATA_HOME", None)
    # The examples' own ports are taken on a shared machine: the servers listen on free ones.
    return {**env, "HOME": str(home), "MAILTRAP_LITE_SMTP": "localhost:0",
            "MAILTRAP_LITE_HTTP": "localhost:0"}  # fmt: skip


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """Serve with a self-signed certificate in ~/.local/share/mailtrap-lite, with 42 messages."""
    home = tmp_path_factory.mktemp("home")
    env = _environment(home)
    server = start_server("--tls-self-signed", env=env)
    host, port = server.smtp
    with smtplib.SMTP(host, port) as client:
        for number in range(1, 43):
            subject = "Welcome" if number == 42 else f"Message {number}"
            body = f"To: ann@example.com\r\nSubject: {subject}\r\n\r\nhello {number}\r\n"
            client.sendmail("app@example.com", ["ann@example.com"], body.encode())
    yield Live(server, home, env)
    server.stop()


# -- python code that is not a test: run against the server ------------------------------------


def test_python_examples_run(live: Live) -> None:
    namespace: dict[str, object] = {"__name__": "readme"}
    for block in RUN_BLOCKS:
        try:
            exec(compile(live.localize(block.text), str(block), "exec"), namespace)  # noqa: S102
        except Exception as error:
            pytest.fail(f"{block} failed: {error!r}")


# -- shell commands ---------------------------------------------------------------------------


def _run(command: str, live: Live, timeout: float = 60,
         cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(live.localize(command), shell=True, capture_output=True, text=True,
                          env=live.env, timeout=timeout, check=False, cwd=cwd)  # fmt: skip


def _check_folder(live: Live) -> Path:
    """Return a folder with what the `check` examples name: emails/*.eml and dkim.pem.

    welcome.eml has a placeholder left in its subject; receipt.eml is well made. Both are
    signed with the key in dkim.pem, as the application would sign them.
    """
    folder = live.home / "check"
    if not folder.exists():
        (folder / "emails").mkdir(parents=True)
        (folder / "dkim.pem").write_bytes(signing_key().private_pem)
        welcome = clean_message(Subject="Welcome, {{ first_name }}!")
        (folder / "emails" / "welcome.eml").write_bytes(sign(crlf(welcome)))
        (folder / "emails" / "receipt.eml").write_bytes(sign(crlf(clean_message())))
    return folder


def _check_files(command: str, live: Live) -> None:
    """Run a README `mailtrap-lite check` and compare it with the output the README shows."""
    # this interpreter's mailtrap-lite, whatever another on PATH may be
    command = command.replace("mailtrap-lite", f"{shlex.quote(sys.executable)} -m mailtrap_lite", 1)
    result = _run(command, live, cwd=_check_folder(live))
    assert result.returncode == 1, result.stdout + result.stderr  # welcome.eml fails
    if "--format json" in command:
        [report] = json.loads(result.stdout)["files"]
        dkim = [c["status"] for c in report["checks"] if c["id"] == "authentication.dkim"]
        assert dkim == ["pass"]
        return
    shown = next(b for b in BLOCKS if b.language == "text" and "emails/welcome.eml" in b.text)
    lines = result.stdout.splitlines()
    assert [line for line in shown.text.splitlines() if line.strip() != "..."] == [
        line for line in lines if line in shown.text.splitlines()
    ]


def _serve_briefly(args: list[str], live: Live) -> None:
    """Start the command as a server, wait for its start-up lines, stop it with SIGTERM.

    One server serves a database at a time, and the live one holds the default database:
    this one gets a database of its own (through the variable, as the command names none).
    """
    env = {**live.env, "MAILTRAP_LITE_DB": str(live.home / "brief" / "mail.db")}
    server = start_server(*[live.localize(a) for a in args[1:]], env=env)
    code, err = server.stop()
    assert code == 0, err


def check_command(command: str, live: Live) -> None:
    """Run one README command, or check what cannot run here (an install, the test suite)."""
    for part in command.split(" && "):
        words = shlex.split(part, comments=True)
        if words[0] == "pip":  # the packaging test installs the wheel in a fresh environment
            assert words[1:3] == ["install", "-e"] and (ROOT / "pyproject.toml").exists()
        elif words[0] == "scripts/test":  # this suite is what it runs
            assert os.access(ROOT / "scripts" / "test", os.X_OK)
        elif words[0] == "--fault":
            parse_rule(words[1])
        elif words[0] == "mailtrap-lite" and words[1:2] in (["export"], ["import"]):
            result = _run(part.replace("mailtrap-lite", f"{sys.executable} -m mailtrap_lite", 1),
                          live)  # fmt: skip
        elif words[:2] == ["mailtrap-lite", "health"]:  # this checkout's, whatever is on PATH
            args = [sys.executable, "-m", "mailtrap_lite", *(live.localize(w) for w in words[1:])]
            result = subprocess.run(args, capture_output=True, text=True, env=live.env,
                                    timeout=30, check=False)  # fmt: skip
            assert result.returncode == 0, result.stderr
        elif words[:2] == ["mailtrap-lite", "check"]:
            _check_files(part, live)
        elif words[0] == "mailtrap-lite":
            _serve_briefly(words, live)
        elif words[0] == "curl":
            streaming = "-sN" in words  # an event stream never ends by itself
            limited = part.replace("curl ", "curl --max-time 2 ", 1) if streaming else part
            result = _run(limited, live)
            assert result.returncode in ((0, 28) if streaming else (0,)), result.stderr
            assert result.stdout.strip(), f"{part} printed nothing"
        elif words[0] == "swaks":
            result = _run(part, live)
            assert result.returncode == 0, result.stdout[-2000:] + result.stderr
        else:
            pytest.fail(f"the README shows a command this test does not know: {part}")


@pytest.mark.parametrize(
    ("block", "command"), COMMANDS, ids=[f"{b}: {c[:40]}" for b, c in COMMANDS]
)
def test_shell_command_runs(block: Block, command: str, live: Live) -> None:
    check_command(command, live)
