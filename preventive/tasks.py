"""The daily generation of preventive requests, run in each tenant by the fan-out (tenants.jobs)."""

from celery import shared_task

from billing.limits import FeatureNotInPlan
from preventive import services
from tenants.selectors import current_tenant


@shared_task(ignore_result=True)
def preventive_requests_generate():
    """File the requests due today (missed dates included) unless the tenant is paused."""
    if services.generation_paused(current_tenant()):
        return
    try:
        services.preventive_requests_generate()
    except FeatureNotInPlan:
        return  # a plan without preventive maintenance: nothing to do here
