"""Platform tasks: they run in the public schema, for every tenant at once."""

from celery import current_app, shared_task

from smartmaintenance.tasks import PlatformTask
from tenants.jobs import jobs_fan_out
from tenants.provisioning import spares_fill
from tenants.services import tenants_suspend_expired_trials


@shared_task(base=PlatformTask, ignore_result=True)
def spare_schemas_fill():
    """Top up the pool of spare tenant schemas (see tenants.provisioning)."""
    spares_fill()


@shared_task(base=PlatformTask, ignore_result=True)
def periodic_jobs_fan_out():
    """Send each tenant the periodic jobs now due for it (tenants.jobs)."""
    jobs_fan_out(app=current_app)


@shared_task(base=PlatformTask, ignore_result=True)
def tenants_lifecycle():
    """Suspend tenants whose trial and grace period are over (idempotent)."""
    tenants_suspend_expired_trials()
