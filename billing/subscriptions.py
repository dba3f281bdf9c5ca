"""
The tenant's subscription decides its plan and status: every change to a
``TenantSubscription`` ends in ``tenant_follow``, the one function that
writes what it means onto the ``Tenant`` (plan, limits, status, dates).

Stripe's subscription objects are applied with ``subscription_apply_stripe``
under a row lock, and only over a state with a smaller key
(``billing.stripe_data``): the final state depends on which objects arrived,
never on their order.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from audit.context import current_request, request_actor
from audit.models import Action
from audit.services import audit_record
from billing.models import TenantSubscription
from billing.notices import notice_send
from billing.plans import get_plan, plan_limits
from billing.stripe_data import subscription_state
from tenants import services as tenant_services
from tenants.models import Tenant

BILLING_ACTOR = "billing"
GRACE_ENDED_REASON = "The subscription is unpaid and its grace period ended."
PAUSED_REASON = "The subscription is paused."
# Suspensions billing may lift when the subscription is paid again; one made
# by a platform admin for another reason stays until they lift it.
BILLING_REASONS = {GRACE_ENDED_REASON, PAUSED_REASON, tenant_services.TRIAL_ENDED_REASON}

Status = TenantSubscription.Status


def grace_days() -> int:
    return settings.BILLING_GRACE_DAYS


def grace_end(subscription: TenantSubscription):
    """
    When a past-due subscription's grace ends: ``BILLING_GRACE_DAYS`` after
    its current period began, the renewal whose payment failed. Read from the
    subscription itself, so it is the same however its events arrived.
    """
    start = subscription.current_period_start or subscription.updated or timezone.now()
    return start + timedelta(days=grace_days())


def subscription_for_tenant(tenant: Tenant, *, lock=False) -> TenantSubscription:
    """The tenant's subscription row, made from the tenant's fields if it has none yet."""
    with schema_context(get_public_schema_name()):
        rows = TenantSubscription.objects.order_by("pk")
        if lock:
            rows = rows.select_for_update()
        subscription = rows.filter(tenant=tenant).first()
        if subscription is None:
            subscription, _created = TenantSubscription.objects.get_or_create(
                tenant=tenant, defaults=subscription_defaults(tenant)
            )
            if lock:
                subscription = rows.get(pk=subscription.pk)
        return subscription


def subscription_defaults(tenant: Tenant) -> dict:
    """A subscription row matching a tenant that has none (new, or from before billing)."""
    trial = tenant.status == Tenant.Status.TRIAL
    price = get_plan(tenant.plan).monthly_price
    return {
        "plan": tenant.plan,
        "status": Status.TRIALING if trial else Status.ACTIVE,
        "price": price if not trial and price is not None else 0,
        "trial_start": tenant.created if trial else None,
        "trial_end": tenant.trial_ends if trial else None,
    }


def _tenant_values(subscription: TenantSubscription, tenant: Tenant, now) -> dict:
    """The tenant fields ``subscription`` calls for (those that differ from now)."""
    if subscription.stripe_subscription_id and subscription.status == Status.INCOMPLETE:
        # The first payment is not through yet: nothing changes until it is.
        return {}
    values = {}
    if subscription.plan != tenant.plan:
        values.update(plan=subscription.plan, **plan_limits(subscription.plan))
    held_by_platform = (
        tenant.status == Tenant.Status.SUSPENDED and tenant.suspension_reason not in BILLING_REASONS
    )
    local = not subscription.stripe_subscription_id
    if held_by_platform or (local and subscription.status != Status.CANCELLED):
        # Without Stripe the trial policy and platform admins decide the status.
        return {field: value for field, value in values.items() if getattr(tenant, field) != value}
    status = subscription.status
    if status == Status.TRIALING:
        values.update(status=Tenant.Status.TRIAL, trial_ends=subscription.trial_end)
        values.update(subscription_expires=None, suspension_reason="")
    elif status == Status.ACTIVE:
        # A subscription bought during a trial ends it.
        values.update(status=Tenant.Status.ACTIVE, suspension_reason="")
        values["subscription_expires"] = (
            subscription.cancel_at
            if subscription.cancel_at_period_end or subscription.cancel_at
            else subscription.current_period_end
        )
    elif status == Status.PAST_DUE:
        deadline = grace_end(subscription)
        values["subscription_expires"] = deadline
        if deadline <= now:
            values.update(status=Tenant.Status.SUSPENDED, suspension_reason=GRACE_ENDED_REASON)
        else:
            values.update(status=Tenant.Status.PAST_DUE, suspension_reason="")
    elif status == Status.PAUSED:
        values.update(status=Tenant.Status.SUSPENDED, suspension_reason=PAUSED_REASON)
    elif status == Status.CANCELLED:
        values.update(
            status=Tenant.Status.CANCELLED,
            suspension_reason="",
            subscription_expires=subscription.cancelled_at or now,
        )
    return {field: value for field, value in values.items() if getattr(tenant, field) != value}


def tenant_follow(
    *, subscription: TenantSubscription, now=None, actor=BILLING_ACTOR, action="billing"
) -> Tenant:
    """Write onto the tenant what its subscription says; tell its admins of dunning steps."""
    now = now or timezone.now()
    with schema_context(get_public_schema_name()):
        tenant = Tenant.objects.select_for_update().get(pk=subscription.tenant_id)
        before, before_plan = tenant.status, tenant.plan
        values = _tenant_values(subscription, tenant, now)
        if not values:
            return tenant
        tenant = tenant_services.tenant_update(tenant=tenant, actor=actor, action=action, **values)
    if tenant.plan != before_plan:
        _plan_change_audit(tenant=tenant, before=before_plan, actor=actor)
    _notify_status_change(tenant, before, subscription)
    return tenant


def _plan_change_audit(*, tenant: Tenant, before: str, actor: str) -> None:
    # The tenant's own log says when its plan changed and who did it: one of
    # its users on its own host; otherwise a platform admin (named by e-mail,
    # their account is not the tenant's) or Stripe's events ("billing").
    user = request_actor(current_request())
    member = user is not None and connection.schema_name == tenant.schema_name
    with tenant_context(tenant):
        audit_record(
            action=Action.PLAN_CHANGED,
            changes={"plan": [before, tenant.plan]},
            actor=user if member else None,
            actor_email="" if member else getattr(user, "email", "") or actor,
        )


def _notify_status_change(tenant: Tenant, before: str, subscription) -> None:
    after = tenant.status
    if after == before:
        return
    if after == Tenant.Status.PAST_DUE:
        notice_send(
            tenant,
            subject="Payment failed: please update your card",
            body=(
                "We could not take the payment for your subscription. Update your card "
                f"before {tenant.subscription_expires:%Y-%m-%d} to keep using the service: "
                "after that date the account is suspended."
            ),
        )
    elif after == Tenant.Status.SUSPENDED and tenant.suspension_reason == GRACE_ENDED_REASON:
        notice_send(
            tenant,
            subject="Account suspended: payment overdue",
            body=(
                "Your subscription is still unpaid after the grace period, so the account "
                "is suspended. Pay the open invoice (see Stripe's e-mail) to restore it at once."
            ),
        )
    elif after == Tenant.Status.ACTIVE and before in (
        Tenant.Status.PAST_DUE,
        Tenant.Status.SUSPENDED,
    ):
        notice_send(
            tenant,
            subject="Payment received: your account is active",
            body="Thank you: the payment went through and the account is active again.",
        )


@transaction.atomic
def subscription_apply_stripe(
    *,
    subscription: TenantSubscription,
    stripe_subscription: dict,
    event_created: int,
    event_id: str,
    now=None,
) -> bool:
    """
    Apply a Stripe subscription object to ``subscription`` (locked by the
    caller) unless a later state is already there; True if applied.
    """
    state = subscription_state(stripe_subscription, event_created=event_created, event_id=event_id)
    if subscription.stripe_state_key and state.key <= subscription.stripe_state_key:
        return False
    for field, value in state.fields.items():
        setattr(subscription, field, value)
    subscription.stripe_state_key = state.key
    if not subscription.stripe_customer_id:
        subscription.stripe_customer_id = stripe_subscription.get("customer") or ""
    subscription.save()
    tenant_follow(subscription=subscription, now=now)
    return True


@transaction.atomic
def subscription_update_local(
    *, subscription: TenantSubscription, actor=BILLING_ACTOR, action="billing", **values
):
    """Change ``subscription`` without Stripe (no keys, or no Stripe subscription)."""
    for field, value in values.items():
        setattr(subscription, field, value)
    subscription.full_clean()
    subscription.save()
    return tenant_follow(subscription=subscription, actor=actor, action=action)


def subscription_dunning_check(*, tenant: Tenant, now=None) -> Tenant:
    """Suspend ``tenant`` if its subscription is past due beyond the grace period; idempotent."""
    with transaction.atomic():
        subscription = subscription_for_tenant(tenant, lock=True)
        return tenant_follow(subscription=subscription, now=now)
