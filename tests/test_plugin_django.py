"""The Django helper: a real django.core.mail.send_mail reaches the sink."""

from __future__ import annotations

import pytest

CONFTEST = """
import django
from django.conf import settings

def pytest_configure():
    settings.configure(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
    django.setup()
"""

SUITE = """
from django.conf import settings
from django.core import mail

def test_send_mail_reaches_the_sink(smtp_sink_django):
    sent = mail.send_mail("Welcome", "Confirm: https://app.example/c?t=1&u=2",
                          "app@example.com", ["user@example.com"])
    assert sent == 1
    message = smtp_sink_django.wait_for(to="user@example.com")
    assert message.subject == "Welcome"
    assert message.link() == "https://app.example/c?t=1&u=2"

def test_settings_are_restored_after_the_test():
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
"""


def test_django_send_mail_is_captured(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_django_mail=SUITE)
    result = pytester.runpytest_subprocess()  # Django settings are process-wide
    result.assert_outcomes(passed=2)
