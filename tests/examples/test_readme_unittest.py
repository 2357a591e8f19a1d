"""README: the same test view without pytest, in a unittest suite."""

import smtplib
import unittest

from mailtrap_lite import Sink, SinkView


class SignUpMailTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sink = Sink().start()  # one sink for the class: 127.0.0.1, a free port
        cls.addClassCleanup(cls.sink.stop)

    def setUp(self):
        self.mail = SinkView(self.sink)  # this test's view: mail acknowledged from now on

    def test_welcome_mail(self):
        with smtplib.SMTP(self.sink.host, self.sink.port) as client:
            client.sendmail("app@example.com", ["ada@example.com"],
                            b"Subject: Welcome\r\n\r\nYour code is 482913.\r\n")
        message = self.mail.wait_for(to="ada@example.com")
        self.assertEqual(message.code(), "482913")

    def test_nothing_sent_yet(self):
        self.mail.assert_not_sent()
