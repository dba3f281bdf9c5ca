"""Reads for billing."""

from billing.models import UsageSnapshot


def usage_history(*, tenant, days: int) -> list[dict]:
    """The tenant's last ``days`` usage snapshots, oldest first."""
    latest = UsageSnapshot.objects.filter(tenant=tenant).order_by("-day")[:days]
    return list(reversed(latest.values("day", "users", "assets", "requests_this_month")))
