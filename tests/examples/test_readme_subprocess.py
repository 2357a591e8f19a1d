"""README: mail sent by another process (a worker, a CLI) through smtp_sink_env."""

import os
import subprocess
import sys

WORKER = """
import os, smtplib
with smtplib.SMTP(os.environ["SMTP_HOST"], int(os.environ["SMTP_PORT"])) as client:
    client.sendmail("jobs@app.example", ["ops@example.com"],
                    b"Subject: Nightly report\\r\\n\\r\\nAll green.\\r\\n")
"""


def test_nightly_job_mails_a_report(smtp_sink, smtp_sink_env):
    env = {**os.environ, **smtp_sink_env}          # SMTP_HOST and SMTP_PORT
    subprocess.run([sys.executable, "-c", WORKER], env=env, check=True, timeout=60)

    report = smtp_sink.wait_for(subject="Nightly report", timeout=10)
    assert report.body_contains("All green.")
