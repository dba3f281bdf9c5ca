"""Sending the outbox: one task per message, and a sweep for messages whose task was lost."""

import logging

from celery import shared_task
from kombu.exceptions import OperationalError

from outbox.services import email_deliver, emails_pending
from smartmaintenance.tasks import PlatformTask, SchemaTask, TenantTask

logger = logging.getLogger("outbox")

MAX_RETRIES = 6  # with exponential backoff capped at 10 minutes: about half an hour


@shared_task(
    base=SchemaTask,
    bind=True,
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=MAX_RETRIES,
)
def email_send(self, email_id: int):
    """Send one message of the outbox of the schema it was queued from."""
    email_deliver(email_id=email_id, final_attempt=self.request.retries >= MAX_RETRIES)


def emails_queue(email_ids) -> None:
    """Queue the sending of ``email_ids``; with the broker down, leave them to the sweep."""
    for email_id in email_ids:
        try:
            email_send.apply_async(args=[email_id], retry=False)
        except OperationalError as error:
            logger.warning("E-mail not queued, the task queue is unreachable: %s", error)
            return


def _sweep():
    for email_id in emails_pending():
        email_send.apply_async(args=[email_id])


@shared_task(base=TenantTask, ignore_result=True)
def emails_sweep():
    """Queue the tenant's mail that has waited too long (periodic job, every 5 minutes)."""
    _sweep()


@shared_task(base=PlatformTask, ignore_result=True)
def emails_sweep_public():
    """The same for the platform's own mail, in the public schema (Celery beat)."""
    _sweep()
