"""Platform tasks: they run in the public schema, for every tenant at once."""

import logging

from celery import current_app, shared_task
from kombu.exceptions import OperationalError

from smartmaintenance.tasks import PlatformTask
from tenants.jobs import job_runs_prune, jobs_fan_out
from tenants.provisioning import spares_fill
from tenants.services import tenants_suspend_expired_trials

logger = logging.getLogger(__name__)


@shared_task(base=PlatformTask, ignore_result=True)
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


@shared_task(base=PlatformTask, ignore_result=True)
def periodic_jobs_fan_out():
    """Send each tenant the periodic jobs now due for it (tenants.jobs)."""
    jobs_fan_out(app=current_app)


@shared_task(base=PlatformTask, ignore_result=True)
def tenants_lifecycle():
    """Suspend tenants whose trial and grace period are over; prune old job runs (idempotent)."""
    tenants_suspend_expired_trials()
    job_runs_prune()
