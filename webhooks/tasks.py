"""
Celery tasks of the outgoing webhooks, and the queueing of them. They are
sent from the tenant's schema, so tenant-schemas-celery runs them there too
(see smartmaintenance/celery.py).

Whoever creates a delivery (the event receiver, a replay) queues it with
``delivery_enqueue`` from here; the task itself only needs the sending
(webhooks.delivery), so the imports run one way.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from smartmaintenance.celery import app
from webhooks.delivery import delivery_attempt
from webhooks.models import WebhookDelivery

logger = logging.getLogger(__name__)


@app.task(name="webhooks.delivery_send", ignore_result=True)
def webhook_delivery_send(delivery_id: str, attempts: int | None = None) -> None:
    """
    One attempt; a failure queues the next one after the backoff delay.
    ``attempts`` is the count when queued: a duplicate of this message finds
    it moved on and does nothing.
    """
    countdown = delivery_attempt(delivery_id=delivery_id, expected_attempts=attempts)
    if countdown is not None:
        # Sent from inside this task, i.e. in the tenant's schema: the retry carries it.
        following = None if attempts is None else attempts + 1
        webhook_delivery_send.apply_async(args=[delivery_id, following], countdown=countdown)


def delivery_enqueue(*, delivery: WebhookDelivery, countdown: int | None = None) -> None:
    """Send ``delivery`` from a worker once the row is committed (and the tenant with it)."""

    def send():
        try:
            webhook_delivery_send.apply_async(
                args=[str(delivery.pk), delivery.attempts], countdown=countdown
            )
        except Exception:
            # Broker down: the row stays due and the sweep (manage.py webhooks_send_due) sends it.
            logger.exception("Could not queue webhook delivery %s", delivery.pk)

    transaction.on_commit(send)


def deliveries_enqueue_due(*, now=None, grace=timedelta(minutes=5)) -> int:
    """
    Queue again the deliveries of this tenant that are overdue by ``grace``:
    their task was lost (broker down when queued, worker killed). Sending is
    idempotent per attempt, so a task that was merely late does no harm.
    """
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING],
        next_attempt_at__lte=now - grace,
    ).only("pk", "attempts")
    count = 0
    for delivery in due:
        delivery_enqueue(delivery=delivery)
        count += 1
    return count


@app.task(name="webhooks.deliveries_sweep", ignore_result=True)
def deliveries_sweep() -> None:
    """The periodic job (tenants.jobs): queue this tenant's overdue deliveries again."""
    deliveries_enqueue_due()
