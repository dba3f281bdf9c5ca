"""
The e-mail backend of the web processes: ``send_mail()`` and friends store the
message in the outbox, in the caller's transaction, and return at once; after
the commit a task sends it through ``EMAIL_DELIVERY_BACKEND`` (what
``EMAIL_URL`` names). The web request never waits for SMTP, and a broker that
is down only delays the mail until the sweep.
"""

from functools import partial

from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from outbox.services import emails_store
from outbox.tasks import emails_queue


class OutboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        with transaction.atomic():
            stored = emails_store(messages=list(email_messages))
            transaction.on_commit(
                partial(emails_queue, [email.pk for email in stored]), robust=True
            )
        return len(stored)
