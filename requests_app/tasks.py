"""Periodic jobs of the requests, run in each tenant by the fan-out (tenants.jobs)."""

from celery import shared_task

from requests_app import notifications, services


@shared_task(ignore_result=True)
def requests_close_resolved():
    """Close requests resolved longer ago than the tenant's auto-close days."""
    services.requests_close_resolved()


@shared_task(ignore_result=True)
def requests_notify_sla_breaches():
    """E-mail, once, about open requests past their due date."""
    notifications.requests_notify_sla_breaches()
