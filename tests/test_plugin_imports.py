"""Import hygiene: the plugin starts nothing, the test core needs no pytest."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import mailtrap_lite.pytest_plugin as plugin

CORE_TEST_MODULES = [
    "mailtrap_lite.testing",
    "mailtrap_lite.testing.view",
    "mailtrap_lite.testing.captured",
    "mailtrap_lite.testing.matching",
    "mailtrap_lite.mime.links",
    "mailtrap_lite.testing.failures",
]


def run_python(script: str) -> str:
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, timeout=60).stdout  # fmt: skip


def test_importing_the_plugin_starts_no_thread_and_opens_no_socket() -> None:
    script = (
        "import gc, json, socket, threading\n"
        "import mailtrap_lite.pytest_plugin\n"
        "sockets = [o for o in gc.get_objects() if isinstance(o, socket.socket)]\n"
        "print(json.dumps([threading.active_count(), len(sockets)]))\n"
    )
    assert json.loads(run_python(script)) == [1, 0]


@pytest.mark.parametrize("module", CORE_TEST_MODULES)
def test_core_test_module_does_not_import_pytest(module: str) -> None:
    script = f"import sys, {module}\nprint('pytest' in sys.modules)"
    assert run_python(script).strip() == "False"


@pytest.mark.parametrize(
    "name",
    ["smtp_sink", "smtp_sink_server", "smtp_sink_factory", "smtp_sink_env", "smtp_sink_django"],
)
def test_plugin_provides_the_documented_fixture(name: str) -> None:
    assert name in plugin.__all__ and callable(getattr(plugin, name))


HEAVY = ("dkim", "dns", "cryptography", "aiosmtplib", "publicsuffixlist")


def test_capturing_mail_in_process_loads_the_checks_only_when_a_report_is_read() -> None:
    script = (
        "import json, smtplib, sys\n"
        "from mailtrap_lite.testing import Sink, SinkView\n"
        f"heavy = {HEAVY!r}\n"
        "def loaded():\n"
        "    return sorted({m.split('.')[0] for m in sys.modules} & set(heavy))\n"
        "sink = Sink().start()\n"
        "view = SinkView(sink)\n"
        "raw = b'Subject: x\\r\\n\\r\\nhi\\r\\n'\n"
        "with smtplib.SMTP(sink.host, sink.port) as client:\n"
        "    client.sendmail('a@example.com', ['b@example.com'], raw)\n"
        "message = view.wait_for(subject='x')\n"
        "assert message.body_contains('hi')\n"
        "before = loaded()\n"
        "failing = len(message.checks().failures)\n"
        "sink.stop()\n"
        "print(json.dumps([before, failing, 'dkim' in loaded()]))\n"
    )
    before, failing, dkim_after = json.loads(run_python(script))
    assert before == []
    assert failing > 0 and dkim_after  # the report still runs every check
