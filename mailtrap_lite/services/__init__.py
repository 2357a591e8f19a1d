"""What runs beside SMTP for a shared sink: tag rules, release rules, webhooks, metrics, age.

Each follows the Store's change feed on a thread of its own, so none of them ever delays an
SMTP reply; mailtrap_lite.app wires them from the Config.
"""
