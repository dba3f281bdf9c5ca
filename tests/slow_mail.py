"""
A delivery backend for the worker in tests/test_jobs.py: it writes each
message to a file, after marking that it started and waiting a while, so a
test can kill the worker in the middle of a delivery.
"""

import os
import time
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class SlowFileBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        folder = Path(os.environ["TEST_MAIL_DIR"])
        delay = float(os.environ.get("TEST_MAIL_DELAY", "0"))
        for message in email_messages:
            (folder / f"started-{os.getpid()}-{time.monotonic_ns()}").touch()
            time.sleep(delay)
            (folder / f"sent-{time.monotonic_ns()}.eml").write_bytes(message.message().as_bytes())
        return len(email_messages)
