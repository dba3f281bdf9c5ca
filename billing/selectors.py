"""Reads for billing."""

from decimal import Decimal

from djstripe.models import Invoice

from billing import limits
from billing.limits import Resource
from billing.models import TenantSubscription, UsageSnapshot


def usage_history(*, tenant, days: int) -> list[dict]:
    """The tenant's last ``days`` usage snapshots, oldest first."""
    latest = UsageSnapshot.objects.filter(tenant=tenant).order_by("-day")[:days]
    return list(reversed(latest.values("day", "users", "assets", "requests_this_month")))


def usage_against_limits(tenant) -> list[dict]:
    """
    Each limit with its usage, and by how much usage is over it: after a
    downgrade nothing is deleted, and creating more is refused until usage is
    back under the limit (billing.limits.reserve).
    """
    rows = []
    for resource, stats in limits.usage_stats(tenant).items():
        used, limit = stats["used"], stats["limit"]
        rows.append(
            {
                "resource": Resource(resource),
                "used": used,
                "limit": limit,
                "over_by": max(used - limit, 0) if limit is not None else 0,
            }
        )
    return rows


def invoices_for(subscription, count=12) -> list[dict]:
    """The tenant's latest invoices as dj-stripe synced them (none without a customer)."""
    if not subscription.stripe_customer_id:
        return []
    invoices = Invoice.objects.filter(customer__id=subscription.stripe_customer_id)
    return [
        {
            "number": invoice.stripe_data.get("number") or invoice.id,
            "created": invoice.created,
            "total": Decimal(invoice.stripe_data.get("total") or 0) / 100,
            "currency": (invoice.stripe_data.get("currency") or "").upper(),
            "status": invoice.stripe_data.get("status") or "",
            "url": invoice.stripe_data.get("hosted_invoice_url") or "",
        }
        for invoice in invoices.order_by("-created")[:count]
    ]


def mrr_by_plan() -> list[dict]:
    """
    Monthly recurring revenue per plan and currency, from the subscriptions
    that pay (active or past due, with a price): annual ones count a twelfth.
    """
    paying = TenantSubscription.objects.filter(
        status__in=[TenantSubscription.Status.ACTIVE, TenantSubscription.Status.PAST_DUE],
        price__gt=0,
    )
    totals: dict[tuple, dict] = {}
    for plan, cycle, currency, price in paying.values_list(
        "plan", "billing_cycle", "currency", "price"
    ):
        monthly = price / 12 if cycle == TenantSubscription.Cycle.ANNUAL else price
        row = totals.setdefault(
            (plan, currency), {"plan": plan, "currency": currency.upper(), "tenants": 0, "mrr": 0}
        )
        row["tenants"] += 1
        row["mrr"] += monthly
    return [
        {**row, "mrr": Decimal(row["mrr"]).quantize(Decimal("0.01"))}
        for _key, row in sorted(totals.items())
    ]
