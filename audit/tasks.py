"""The daily prune of the audit log, sent to every tenant by tenants.jobs."""

from celery import shared_task

from audit.services import audit_prune as audit_prune_entries
from tenants.selectors import current_tenant


@shared_task(ignore_result=True)
def audit_prune():
    """Delete the current tenant's entries older than its plan keeps them."""
    audit_prune_entries(tenant=current_tenant())
