"""
Billing's background work: the daily usage snapshot and the dunning check,
run in each tenant by the fan-out (tenants.jobs), and re-fetching a Stripe
subscription after a webhook, in the public schema.
"""

import logging
import time

import stripe
from celery import shared_task
from kombu.exceptions import OperationalError

from billing.services import usage_snapshot_take
from billing.stripe_client import as_dict, client
from billing.subscriptions import subscription_dunning_check
from billing.webhooks import subscription_refetched
from smartmaintenance.tasks import PlatformTask
from tenants.selectors import current_tenant

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def usage_snapshot():
    """Record the current tenant's usage for today."""
    usage_snapshot_take(tenant=current_tenant())


@shared_task(ignore_result=True)
def dunning():
    """Suspend the current tenant if it is past due beyond its grace period."""
    subscription_dunning_check(tenant=current_tenant())


@shared_task(
    base=PlatformTask, ignore_result=True, autoretry_for=(stripe.APIConnectionError,), max_retries=5
)
def stripe_subscription_refresh(subscription_id: str):
    """Apply Stripe's current state of a subscription (after an invoice or checkout event)."""
    fetched = client().v1.subscriptions.retrieve(subscription_id)
    subscription_refetched(as_dict(fetched), fetched_at=int(time.time()))


def stripe_subscription_refresh_later(subscription_id: str) -> None:
    """Queue the re-fetch; for ``transaction.on_commit`` after a webhook."""
    try:
        stripe_subscription_refresh.apply_async((subscription_id,), retry=False)
    except OperationalError as error:
        # Stripe's own subscription events carry the same state: nothing is lost.
        logger.warning("Subscription %s not re-fetched, no broker: %s", subscription_id, error)
