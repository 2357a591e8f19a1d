"""README: Django's real SMTP backend pointed at the sink for one test."""

import django
from django.conf import settings

# In a Django project, pytest-django or DJANGO_SETTINGS_MODULE does this.
if not settings.configured:
    settings.configure(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
    django.setup()

from django.core.mail import send_mail  # noqa: E402


def test_password_reset_mail(smtp_sink_django):
    send_mail("Reset your password", "Code: 771204", "app@example.com", ["ada@example.com"])

    message = smtp_sink_django.wait_for(to="ada@example.com")
    assert message.code() == "771204"
