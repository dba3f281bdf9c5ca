"""
Reading Stripe's objects: what a subscription object says about a tenant's
plan, and the key that orders its states. Pure functions of the objects, so
the same object always means the same thing, whenever it arrives.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from billing.models import TenantSubscription
from billing.plans import PlanCode

# Stripe's subscription statuses, in ours.
STATUS_FROM_STRIPE = {
    "trialing": TenantSubscription.Status.TRIALING,
    "active": TenantSubscription.Status.ACTIVE,
    "past_due": TenantSubscription.Status.PAST_DUE,
    # Every retry failed: still unpaid, so still in dunning.
    "unpaid": TenantSubscription.Status.PAST_DUE,
    "paused": TenantSubscription.Status.PAUSED,
    "canceled": TenantSubscription.Status.CANCELLED,
    "incomplete": TenantSubscription.Status.INCOMPLETE,
    "incomplete_expired": TenantSubscription.Status.CANCELLED,
}
TERMINAL_STATUSES = {"canceled", "incomplete_expired"}

CYCLE_FROM_INTERVAL = {"month": TenantSubscription.Cycle.MONTHLY, "year": "annual"}


def lookup_key(plan: str, cycle: str) -> str:
    """The Stripe price lookup key of a plan and cycle, e.g. ``basic_monthly``."""
    return f"{plan}_{cycle}"


def when(timestamp) -> datetime | None:
    return datetime.fromtimestamp(timestamp, tz=UTC) if timestamp else None


@dataclass(frozen=True)
class SubscriptionState:
    """What one Stripe subscription object says, in TenantSubscription's fields."""

    fields: dict
    key: str


def _first_item(subscription: dict) -> dict:
    items = (subscription.get("items") or {}).get("data") or [{}]
    return items[0]


def plan_of_price(price: dict) -> str | None:
    """Our plan code for a Stripe price: its lookup key, else its metadata."""
    code = (price.get("metadata") or {}).get("plan")
    key = price.get("lookup_key") or ""
    for plan in PlanCode.values:
        if key.startswith(f"{plan}_"):
            code = plan
    return code if code in PlanCode.values else None


def subscription_state(
    subscription: dict, *, event_created: int, event_id: str
) -> SubscriptionState:
    """
    The fields a Stripe subscription object sets, and its key. Keys sort as
    the states happened: a newer subscription after an older one, an ended
    subscription after every state of it, a later period after an earlier
    one, then the event's own time (ties broken by event id, arbitrarily but
    the same way every time). The highest key seen is the current state.
    """
    item = _first_item(subscription)
    price = item.get("price") or {}
    # Since Stripe's 2025-03 API the period is on the items.
    period_start = subscription.get("current_period_start") or item.get("current_period_start")
    period_end = subscription.get("current_period_end") or item.get("current_period_end")
    status = subscription.get("status", "")
    fields = {
        "stripe_subscription_id": subscription["id"],
        "status": STATUS_FROM_STRIPE.get(status, TenantSubscription.Status.INCOMPLETE),
        "billing_cycle": CYCLE_FROM_INTERVAL.get(
            (price.get("recurring") or {}).get("interval"), TenantSubscription.Cycle.MONTHLY
        ),
        "price": Decimal(price.get("unit_amount") or 0) / 100,
        "currency": price.get("currency") or subscription.get("currency") or "usd",
        "current_period_start": when(period_start),
        "current_period_end": when(period_end),
        "trial_start": when(subscription.get("trial_start")),
        "trial_end": when(subscription.get("trial_end")),
        "cancel_at": when(subscription.get("cancel_at")),
        "cancelled_at": when(subscription.get("canceled_at")),
        "cancel_at_period_end": bool(subscription.get("cancel_at_period_end")),
        "stripe_payment_method_id": _id(subscription.get("default_payment_method")),
    }
    plan = plan_of_price(price)
    if plan:
        fields["plan"] = plan
    key = ":".join(
        [
            f"{subscription.get('created') or 0:012d}",
            subscription["id"],
            "1" if status in TERMINAL_STATUSES else "0",
            f"{period_start or 0:012d}",
            f"{event_created:012d}",
            event_id,
        ]
    )
    return SubscriptionState(fields=fields, key=key)


def _id(value) -> str:
    if isinstance(value, dict):
        return value.get("id", "")
    return value or ""


def customer_of(obj: dict) -> str:
    return _id(obj.get("customer"))
