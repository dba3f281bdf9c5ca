"""
Celery tasks of the outgoing webhooks. They are sent from the tenant's
schema, so tenant-schemas-celery runs them there too (see smartmaintenance/celery.py).
"""

from smartmaintenance.celery import app
from webhooks import services


@app.task(name="webhooks.delivery_send", ignore_result=True)
def webhook_delivery_send(delivery_id: str) -> None:
    """One attempt; a failure queues the next one after the backoff delay."""
    countdown = services.delivery_attempt(delivery_id)
    if countdown is not None:
        # Sent from inside this task, i.e. in the tenant's schema: the retry carries it.
        webhook_delivery_send.apply_async(args=[delivery_id], countdown=countdown)


@app.task(name="webhooks.deliveries_send_due", ignore_result=True)
def webhook_deliveries_send_due() -> int:
    """The safety net for lost tasks; run it per tenant every few minutes (beat)."""
    return services.deliveries_enqueue_due()
