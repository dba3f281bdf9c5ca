"""
Writes for billing: putting a tenant on a plan, and the subscription's
changes (cancel, resume, change plan), through Stripe when the tenant pays
through Stripe. The tenant's row is tenants' (tenants.services creates,
audits and changes it); which plan it is on, and the limits that come with
it, follow its ``TenantSubscription`` (billing.subscriptions).
"""

import time
import zoneinfo
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from billing.limits import Resource, usage
from billing.models import TenantSubscription, UsageSnapshot
from billing.plans import PAID_PLAN_CODES, PlanCode, get_plan, plan_limits
from billing.stripe_client import as_dict, billing_configured, client
from billing.stripe_data import lookup_key
from billing.subscriptions import (
    subscription_apply_stripe,
    subscription_defaults,
    subscription_for_tenant,
    subscription_update_local,
)
from tenants import services as tenant_services
from tenants.models import Tenant


def tenant_create(*, name: str, subdomain: str, plan: str = PlanCode.FREE, **fields) -> Tenant:
    """
    tenants.services.tenant_create (row, domain and schema, all or nothing),
    with ``plan`` and its limits: what every new organisation starts with.
    """
    with transaction.atomic():
        tenant = tenant_services.tenant_create(
            name=name, subdomain=subdomain, plan=plan, **plan_limits(plan), **fields
        )
        with schema_context(get_public_schema_name()):
            TenantSubscription.objects.create(tenant=tenant, **subscription_defaults(tenant))
    return tenant


def public_tenant_ensure() -> Tenant:
    """The platform's own tenant and main domain, on the unlimited plan; idempotent."""
    return tenant_services.public_tenant_ensure(plan=PlanCode.ENTERPRISE)


def tenant_change_plan(
    *, tenant: Tenant, plan: str, actor: str = tenant_services.SYSTEM_ACTOR
) -> Tenant:
    """
    Put the tenant on ``plan`` without Stripe (platform admins, commands); its
    limits replace the tenant's (overrides can be set again after). A tenant
    paying through Stripe follows Stripe again at its next subscription event.
    """
    plan = PlanCode(plan).value
    with transaction.atomic():
        subscription = subscription_for_tenant(tenant, lock=True)
        price = get_plan(plan).monthly_price
        changed = subscription_update_local(
            subscription=subscription,
            actor=actor,
            action="change_plan",
            plan=plan,
            price=price or 0,
        )
        if changed.plan != plan or any(
            getattr(changed, field) != value for field, value in plan_limits(plan).items()
        ):
            # Same plan, limits overridden since: back to the plan's own.
            tenant_services.tenant_update(
                tenant=changed, actor=actor, action="change_plan", plan=plan, **plan_limits(plan)
            )
    # Callers hold this object (the connection's tenant, often): bring it up to date.
    tenant.refresh_from_db()
    return tenant


def _stripe_subscription_id(tenant: Tenant) -> str:
    subscription = subscription_for_tenant(tenant)
    if not billing_configured() or not subscription.stripe_subscription_id:
        raise ValidationError(
            "This organisation has no subscription in Stripe to change.", code="no_subscription"
        )
    if subscription.status == TenantSubscription.Status.CANCELLED:
        raise ValidationError("The subscription has ended.", code="subscription_ended")
    return subscription.stripe_subscription_id


def _apply_response(tenant: Tenant, stripe_subscription) -> TenantSubscription:
    """Apply Stripe's answer to a change as the state at the time of the answer."""
    with transaction.atomic():
        subscription = subscription_for_tenant(tenant, lock=True)
        subscription_apply_stripe(
            subscription=subscription,
            stripe_subscription=as_dict(stripe_subscription),
            event_created=int(time.time()),
            # Sorts after any event id of the same second ("~" > "e"), and after
            # an earlier answer in that second: Stripe's answer is current.
            event_id=f"~api-{time.time_ns():020d}",
        )
    return subscription_for_tenant(tenant)


def subscription_schedule_cancellation(*, tenant: Tenant) -> TenantSubscription:
    """Cancel at the end of the paid period: the tenant keeps its plan until then."""
    stripe_id = _stripe_subscription_id(tenant)
    answer = client().v1.subscriptions.update(stripe_id, {"cancel_at_period_end": True})
    return _apply_response(tenant, answer)


def subscription_renew(*, tenant: Tenant) -> TenantSubscription:
    """Undo a scheduled cancellation: the subscription renews as before."""
    stripe_id = _stripe_subscription_id(tenant)
    answer = client().v1.subscriptions.update(stripe_id, {"cancel_at_period_end": False})
    return _apply_response(tenant, answer)


def subscription_cancel_now(
    *, tenant: Tenant, actor: str = tenant_services.SYSTEM_ACTOR
) -> TenantSubscription:
    """End the subscription at once (in Stripe if it is there); the account becomes read-only."""
    subscription = subscription_for_tenant(tenant)
    if subscription.stripe_subscription_id and billing_configured():
        answer = client().v1.subscriptions.cancel(subscription.stripe_subscription_id)
        return _apply_response(tenant, answer)
    with transaction.atomic():
        subscription = subscription_for_tenant(tenant, lock=True)
        subscription_update_local(
            subscription=subscription,
            actor=actor,
            status=TenantSubscription.Status.CANCELLED,
            cancelled_at=timezone.now(),
        )
    return subscription_for_tenant(tenant)


def price_id_for(plan: str, cycle: str) -> str:
    """The Stripe price of a plan and cycle, by lookup key (``manage.py billing_sync_plans``)."""
    key = lookup_key(plan, cycle)
    prices = client().v1.prices.list({"lookup_keys": [key], "active": True, "limit": 1})
    if not prices.data:
        raise ValidationError(
            "This plan is not for sale in Stripe yet (run billing_sync_plans).",
            code="price_missing",
        )
    return prices.data[0].id


def subscription_change_plan(
    *, tenant: Tenant, plan: str, cycle: str = TenantSubscription.Cycle.MONTHLY
) -> TenantSubscription:
    """
    Move a Stripe subscription to another paid plan or cycle, prorated. A
    tenant without one subscribes through Checkout (billing.checkout); a move
    to the free plan is a cancellation at period end.
    """
    if PlanCode(plan) not in PAID_PLAN_CODES:
        raise ValidationError({"plan": "Choose a paid plan."})
    stripe_id = _stripe_subscription_id(tenant)
    api = client().v1
    current = api.subscriptions.retrieve(stripe_id)
    item_id = current["items"]["data"][0]["id"]
    answer = api.subscriptions.update(
        stripe_id,
        {
            "items": [{"id": item_id, "price": price_id_for(plan, cycle)}],
            "proration_behavior": "create_prorations",
            "cancel_at_period_end": False,
        },
    )
    return _apply_response(tenant, answer)


def storage_used(tenant) -> int:
    """Bytes of the tenant's uploaded files (its folder under MEDIA_ROOT)."""
    folder = Path(settings.MEDIA_ROOT) / tenant.schema_name
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def usage_snapshot_take(*, tenant: Tenant, now=None) -> UsageSnapshot:
    """Record ``tenant``'s usage for its local date; idempotent within the day."""
    now = now or timezone.now()
    snapshot, _created = UsageSnapshot.objects.update_or_create(
        tenant=tenant,
        day=now.astimezone(zoneinfo.ZoneInfo(tenant.timezone)).date(),
        defaults={
            "users": usage(tenant, Resource.USERS, now),
            "assets": usage(tenant, Resource.ASSETS, now),
            "requests_this_month": usage(tenant, Resource.REQUESTS, now),
            "storage_bytes": storage_used(tenant),
            "plan": tenant.plan,
        },
    )
    return snapshot
