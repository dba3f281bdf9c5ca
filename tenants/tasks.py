import logging

from celery import shared_task
from kombu.exceptions import OperationalError

from tenants.provisioning import spares_fill

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def spare_schemas_fill():
    """Top up the pool of spare tenant schemas (see tenants.provisioning)."""
    spares_fill()


def spare_schemas_fill_later() -> None:
    """Queue ``spare_schemas_fill``; for ``transaction.on_commit`` after a new tenant."""
    # Without a broker the pool waits for the next deploy or signup; the
    # signup itself has committed and must not wait on retries.
    try:
        spare_schemas_fill.apply_async(retry=False)
    except OperationalError as error:
        logger.warning("Spare schemas not topped up, the task queue is unreachable: %s", error)
