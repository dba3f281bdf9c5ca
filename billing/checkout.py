"""
Stripe Checkout and the customer portal: the tenant's admins pay, change
their card and read their invoices on Stripe's pages, and come back here.
Both are created on Stripe's side and reached by redirect.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from billing.models import TenantSubscription
from billing.plans import PAID_PLAN_CODES, PlanCode
from billing.services import price_id_for
from billing.stripe_client import client
from billing.subscriptions import subscription_for_tenant
from tenants.models import Tenant


def customer_ensure(*, tenant: Tenant, email: str = "") -> str:
    """The tenant's Stripe customer id, creating the customer the first time."""
    subscription = subscription_for_tenant(tenant)
    if subscription.stripe_customer_id:
        return subscription.stripe_customer_id
    customer = client().v1.customers.create(
        {
            "name": tenant.name,
            "email": tenant.billing_email or email,
            "metadata": {"tenant_id": str(tenant.pk), "subdomain": tenant.subdomain},
        },
        # Two clicks on "upgrade" make one customer.
        {"idempotency_key": f"customer-for-tenant-{tenant.pk}"},
    )
    with transaction.atomic():
        subscription = subscription_for_tenant(tenant, lock=True)
        if not subscription.stripe_customer_id:
            subscription.stripe_customer_id = customer.id
            subscription.save(update_fields=["stripe_customer_id", "updated"])
    return subscription.stripe_customer_id


def checkout_url(
    *, tenant: Tenant, plan: str, cycle: str, success_url: str, cancel_url: str, email: str = ""
) -> str:
    """A Stripe Checkout page subscribing ``tenant`` to ``plan`` billed each ``cycle``."""
    if plan not in PAID_PLAN_CODES:
        raise ValidationError({"plan": "Choose a paid plan."})
    if cycle not in TenantSubscription.Cycle.values:
        raise ValidationError({"cycle": "Choose monthly or annual billing."})
    subscription = subscription_for_tenant(tenant)
    if subscription.stripe_subscription_id and subscription.status not in (
        TenantSubscription.Status.CANCELLED,
        TenantSubscription.Status.INCOMPLETE,
    ):
        raise ValidationError(
            "The organisation already has a subscription: change its plan instead.",
            code="already_subscribed",
        )
    customer = customer_ensure(tenant=tenant, email=email)
    session = client().v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "customer": customer,
            "client_reference_id": str(tenant.pk),
            "line_items": [{"price": price_id_for(PlanCode(plan).value, cycle), "quantity": 1}],
            "subscription_data": {"metadata": {"tenant_id": str(tenant.pk)}},
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
    )
    return session.url


def portal_url(*, tenant: Tenant, return_url: str) -> str:
    """The Stripe customer portal (card, invoices, cancellation) for ``tenant``."""
    subscription = subscription_for_tenant(tenant)
    if not subscription.stripe_customer_id:
        raise ValidationError("Subscribe to a plan first.", code="no_customer")
    session = client().v1.billing_portal.sessions.create(
        {"customer": subscription.stripe_customer_id, "return_url": return_url}
    )
    return session.url
