"""SMTP: aiosmtpd's protocol adjusted to record and reply well, the capture handler that hands
messages to the Store, TLS, fault rules, reply texts and the listeners."""
