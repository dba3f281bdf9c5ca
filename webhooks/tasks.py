"""
Celery tasks of the outgoing webhooks. They are sent from the tenant's
schema, so tenant-schemas-celery runs them there too (see smartmaintenance/celery.py).
"""

from smartmaintenance.celery import app
from webhooks import services


@app.task(name="webhooks.delivery_send", ignore_result=True)
def webhook_delivery_send(delivery_id: str, attempts: int | None = None) -> None:
    """
    One attempt; a failure queues the next one after the backoff delay.
    ``attempts`` is the count when queued: a duplicate of this message finds
    it moved on and does nothing.
    """
    countdown = services.delivery_attempt(delivery_id, expected_attempts=attempts)
    if countdown is not None:
        # Sent from inside this task, i.e. in the tenant's schema: the retry carries it.
        following = None if attempts is None else attempts + 1
        webhook_delivery_send.apply_async(args=[delivery_id, following], countdown=countdown)
