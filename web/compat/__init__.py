"""Mailpit- and MailHog-compatible APIs: thin shapes over the one read model and Store.

Each is a blueprint mounted at / on a listener of its own (--mailpit-http, --mailhog-http:
the three APIs claim the same paths) and under /compat/mailpit/ and /compat/mailhog/ on the
main port. Built by web/app.py's `build_app`, they get the same guards as the main listener.
"""
