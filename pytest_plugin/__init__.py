"""The pytest plugin of mailtrap-lite (entry point `mailtrap_lite`): fixtures and hooks only.

Everything that captures, waits and asserts lives in the pytest-free core
(`mailtrap_lite.testing`); importing this module starts nothing and loads no SMTP, TLS,
database or web library: those load when a fixture first starts a sink.
"""

from .fixtures import (
    SinkFactory,
    SinkTLS,
    smtp_sink,
    smtp_sink_django,
    smtp_sink_env,
    smtp_sink_factory,
    smtp_sink_server,
    smtp_sink_tls,
)
from .hooks import (
    pytest_addoption,
    pytest_configure,
    pytest_report_header,
    pytest_runtest_makereport,
    pytest_runtest_setup,
    pytest_runtest_teardown,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
    pytest_unconfigure,
)

__all__ = [
    "SinkFactory",
    "SinkTLS",
    "pytest_addoption",
    "pytest_configure",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_runtest_setup",
    "pytest_runtest_teardown",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_testnodedown",
    "pytest_unconfigure",
    "smtp_sink",
    "smtp_sink_django",
    "smtp_sink_env",
    "smtp_sink_factory",
    "smtp_sink_server",
    "smtp_sink_tls",
]
