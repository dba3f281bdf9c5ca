"""The daily usage snapshot, run in each tenant by the fan-out (tenants.jobs)."""

from celery import shared_task

from billing.services import usage_snapshot_take
from tenants.selectors import current_tenant


@shared_task(ignore_result=True)
def usage_snapshot():
    """Record the current tenant's usage for today."""
    usage_snapshot_take(tenant=current_tenant())
