"""
Billing's background work: the daily usage snapshot and the dunning check,
run in each tenant by the fan-out (tenants.jobs), and re-fetching a Stripe
subscription after a webhook, in the public schema.
"""

import logging
import time

import stripe
from celery import shared_task
from django.conf import settings
from djstripe.models import Invoice
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


@shared_task(
    base=PlatformTask, ignore_result=True, autoretry_for=(stripe.APIConnectionError,), max_retries=5
)
def stripe_invoice_sync(invoice_id: str):
    """Bring an invoice into dj-stripe's tables, which the plan page lists."""
    fetched = client().v1.invoices.retrieve(invoice_id)
    Invoice.sync_from_stripe_data(as_dict(fetched), api_key=settings.STRIPE_SECRET_KEY)


def stripe_refresh_later(*, subscription_ids=(), invoice_ids=()) -> None:
    """Queue the re-fetches a webhook asked for; for ``transaction.on_commit``."""
    try:
        for subscription_id in subscription_ids:
            stripe_subscription_refresh.apply_async((subscription_id,), retry=False)
        for invoice_id in invoice_ids:
            stripe_invoice_sync.apply_async((invoice_id,), retry=False)
    except OperationalError as error:
        # Stripe's own subscription events carry the same state, and dj-stripe
        # can sync invoices again (djstripe_sync_models): nothing is lost for good.
        logger.warning("Stripe objects not re-fetched, no broker: %s", error)
