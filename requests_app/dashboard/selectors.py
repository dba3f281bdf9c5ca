"""
Dashboard reads for maintenance requests: counts by status, type and
priority, overdue requests, mean times to acknowledge and to resolve,
requests per month and the assets with the most requests.

Every selector is one aggregate query over the requests the user may see
(``selectors.request_visibility_filter``: a requester's dashboard counts
only their own requests, admins and managers see all), so the number of
queries never depends on how many requests there are. Working out the
user's visibility may cost one or two small queries of its own (roles,
trades), once per user object.

History is read over a window, by default the last 12 calendar months in
the tenant's time zone: what a dashboard shows is recent work, and a window
keeps the rows each query reads bounded by the tenant's recent activity
instead of its whole history. Open requests are counted whenever they were
filed: an overdue request from two years ago is still overdue.

Leads (``selectors.user_is_lead``: they see every request) are answered
from the monthly rollup the services keep (``requests_app/dashboard/rollup.py``): a
few hundred rows for the window however many requests it holds. Open and
overdue requests are counted from the rows, through the index on
(status, resolved_at): "overdue" depends on the time, so no counter can
hold it, and the open backlog is small. Everyone else sees a subset that
no counter describes (their own requests, their trades), so they keep the
live queries, whose sets are small. The rollup is used when it is current
for the tenant's time zone, and only for windows of whole months;
otherwise the live queries answer leads too, with the same figures.
See docs/requests.md, "Dashboard", and bench/dashboard.py.
"""

import zoneinfo
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from requests_app.dashboard.rollup import rollup_zone
from requests_app.models import (
    OPEN_STATUSES,
    AssetMonthlyCount,
    MaintenanceRequest,
    Priority,
    RequestMonthlyCount,
    RequestType,
    Status,
    overdue_condition,
)
from requests_app.selectors import (
    request_list_visible_to,
    request_visibility_filter,
    user_is_lead,
    user_is_technician,
    user_trades,
)
from tenants.selectors import current_tenant

MONTHS = 12
TOP_ASSETS = 5
OVERDUE_SHOWN = 10
QUEUE_SHOWN = 25
# The fields the dashboard counts requests by (the field is also the figure's key).
_CHOICES = (("status", Status), ("type", RequestType), ("priority", Priority))


def _source(user):
    """
    ``(requests, rollup)``: the requests ``user`` may see, without the
    list's joins (aggregates need none), and whether the rollup answers for
    them, which it does for leads (they see every request, which is what the
    rollup counts) while it is current. One query for the rollup's state,
    leads only.
    """
    condition = request_visibility_filter(user)  # a technician's costs a query: once
    requests = MaintenanceRequest.objects.order_by()
    if condition is not None:
        return requests.filter(condition), False
    return requests, rollup_zone() is not None


def _whole_months(since) -> bool:
    """True when ``since`` is the start of a month in the tenant's zone, as the rollup's are."""
    local = timezone.localtime(since, _tenant_zone())
    return (local.day, local.hour, local.minute, local.second, local.microsecond) == (1, 0, 0, 0, 0)


def _tenant_zone():
    return zoneinfo.ZoneInfo(current_tenant().timezone)


def dashboard_window_start(now=None, months: int = MONTHS) -> datetime:
    """
    The start of the dashboard's window: midnight on the first day of the
    month ``months - 1`` months before ``now``'s, in the tenant's time zone,
    so the window is exactly ``months`` whole calendar months, this one
    included.
    """
    local = timezone.localtime(now or timezone.now(), _tenant_zone())
    month_index = local.year * 12 + local.month - 1 - (months - 1)
    return local.replace(
        year=month_index // 12,
        month=month_index % 12 + 1,
        day=1,
        hour=0,
        minute=0,
        second=0,
        microsecond=0,
    )


def _mean(stamp: str, among: Q):
    """Mean of ``stamp - created`` over the requests ``among`` that have ``stamp``."""
    return Avg(
        ExpressionWrapper(F(stamp) - F("created"), output_field=DurationField()),
        filter=among & Q(**{f"{stamp}__isnull": False}),
    )


def dashboard_summary(user, now=None, since=None) -> dict:
    """
    Counts and means for ``user``'s dashboard: one query, or for a lead
    three (the rollup's state, its months, the open requests).

    Of the visible requests filed since ``since`` (default: the start of the
    12-month window): how many in each status, type and priority, and the
    mean time from filing to triage ("acknowledged") and from filing to
    resolution, over those that got there (a reopened request is not
    resolved until it is resolved again; see ``request_transition``). Of
    all visible open requests, whenever filed: how many and how many past
    their due date at ``now``.

    Returns ``{"status": {value: n}, "type": {...}, "priority": {...},
    "total": n, "open": n, "overdue": n, "mean_acknowledge": timedelta|None,
    "mean_resolve": timedelta|None, "since": datetime}``.
    """
    requests, rollup = _source(user)
    now = now or timezone.now()
    since = since or dashboard_window_start(now)
    if rollup and _whole_months(since):
        return _summary_from_months(_rollup_months(since), requests, now, since)
    return _summary(requests, now, since)


def _summary(requests, now, since=None) -> dict:
    since = since or dashboard_window_start(now)
    recent = Q(created__gte=since)
    is_open = Q(status__in=OPEN_STATUSES)
    aggregates = {"total": Count("pk", filter=recent)}
    for field, choices in _CHOICES:
        for choice in choices:
            aggregates[f"{field}__{choice.value}"] = Count(
                "pk", filter=recent & Q(**{field: choice.value})
            )
    aggregates["open"] = Count("pk", filter=is_open)
    aggregates["overdue"] = Count("pk", filter=overdue_condition(now))
    aggregates["mean_acknowledge"] = _mean("triaged_at", recent)
    aggregates["mean_resolve"] = _mean("resolved_at", recent)
    # Only the window's rows and the open ones are read: the WHERE lets
    # PostgreSQL combine the index on ``created`` with the one on (status,
    # resolved_at) in a bitmap, instead of scanning the whole history.
    row = requests.filter(recent | is_open).aggregate(**aggregates)
    result = {"status": {}, "type": {}, "priority": {}, "since": since}
    for key, value in row.items():
        prefix, _, choice = key.partition("__")
        if choice:
            result[prefix][choice] = value
        else:
            result[key] = value
    return result


def dashboard_requests_per_month(user, now=None, months: int = MONTHS) -> list[tuple]:
    """
    How many visible requests were filed in each of the last ``months``
    calendar months, in the tenant's time zone, oldest first, months with
    none included: ``[(date(2026, 1, 1), 12), ...]``. One query.
    """
    requests, rollup = _source(user)
    now = now or timezone.now()
    if rollup:
        since = dashboard_window_start(now, months)
        return _per_month_from_months(_rollup_months(since), since, months)
    return _per_month(requests, now, months)


def _per_month(requests, now, months: int = MONTHS) -> list[tuple]:
    zone = _tenant_zone()
    since = dashboard_window_start(now, months)
    rows = (
        requests.filter(created__gte=since)
        .annotate(month=TruncMonth("created", tzinfo=zone))
        .values("month")
        .annotate(count=Count("pk"))
        .values_list("month", "count")
    )
    counts = {timezone.localtime(month, zone).date(): count for month, count in rows}
    result = []
    month = since.date()
    for _ in range(months):
        result.append((month, counts.get(month, 0)))
        # The first of the next month: day 28 + 4 days is always in it.
        month = (month + timedelta(days=32)).replace(day=1)
    return result


def dashboard_top_assets(user, now=None, since=None, limit: int = TOP_ASSETS) -> list[dict]:
    """
    The assets with the most visible requests filed since ``since`` (default:
    the start of the 12-month window), most first, then by name:
    ``[{"asset_id": 3, "name": "Boiler", "asset_tag": "B-1", "count": 9}, ...]``.
    One query.
    """
    requests, rollup = _source(user)
    now = now or timezone.now()
    since = since or dashboard_window_start(now)
    if rollup and _whole_months(since):
        return _top_assets_from_months(since, limit)
    return _top_assets(requests, now, since, limit)


def _top_assets(requests, now, since=None, limit: int = TOP_ASSETS) -> list[dict]:
    since = since or dashboard_window_start(now)
    return list(
        requests.filter(created__gte=since, asset__isnull=False)
        .values("asset_id", name=F("asset__name"), asset_tag=F("asset__asset_tag"))
        .annotate(count=Count("pk"))
        .order_by("-count", "name", "asset_id")[:limit]
    )


def dashboard_get(user, now=None) -> dict:
    """
    Everything the dashboard page shows, for ``user`` at ``now``: three
    queries after working out once what the user may see; for a lead, one
    for the rollup's state and three more (months, open requests, assets).
    """
    now = now or timezone.now()
    requests, rollup = _source(user)
    if rollup:
        since = dashboard_window_start(now)
        months = _rollup_months(since)
        return {
            "summary": _summary_from_months(months, requests, now, since),
            "per_month": _per_month_from_months(months, since),
            "top_assets": _top_assets_from_months(since),
        }
    return {
        "summary": _summary(requests, now),
        "per_month": _per_month(requests, now),
        "top_assets": _top_assets(requests, now),
    }


# --- From the rollup (leads) ------------------------------------------------------

_SUMS = ("requests", "acknowledged", "acknowledge_us", "resolved", "resolve_us")


def _rollup_months(since) -> dict:
    """
    ``{month: {"requests": n, ..., ("status", "new"): n, ...}}`` for the
    months from ``since``'s on: one query over at most 144 rows a month.
    """
    aggregates = {f"sum_{name}": Sum(name) for name in _SUMS}
    keys = {}
    for prefix, choices in _CHOICES:
        for choice in choices:
            alias = f"{prefix}_is_{choice.value}"
            keys[alias] = (prefix, choice.value)
            aggregates[alias] = Sum("requests", filter=Q(**{prefix: choice.value}))
    start = timezone.localtime(since, _tenant_zone()).date()
    rows = (
        RequestMonthlyCount.objects.filter(month__gte=start)
        .values("month")
        .annotate(**aggregates)
        .order_by()
    )
    months = {}
    for row in rows:
        month = months[row.pop("month")] = {}
        for alias, value in row.items():
            month[keys.get(alias, alias.removeprefix("sum_"))] = value or 0
    return months


def _mean_from(total_us, count):
    if not count:
        return None
    mean = (Decimal(total_us) / count).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return timedelta(microseconds=int(mean))


def _open_counts(requests, now) -> dict:
    """Open requests and those past due at ``now``, whenever filed: one query."""
    return requests.filter(status__in=OPEN_STATUSES).aggregate(
        open=Count("pk"), overdue=Count("pk", filter=overdue_condition(now))
    )


def _summary_from_months(months: dict, requests, now, since) -> dict:
    def total(key):
        return sum(month.get(key, 0) for month in months.values())

    result = {
        prefix: {c.value: total((prefix, c.value)) for c in choices} for prefix, choices in _CHOICES
    }
    result["since"] = since
    result["total"] = total("requests")
    result["mean_acknowledge"] = _mean_from(total("acknowledge_us"), total("acknowledged"))
    result["mean_resolve"] = _mean_from(total("resolve_us"), total("resolved"))
    result.update(_open_counts(requests, now))
    return result


def _per_month_from_months(months: dict, since, count: int = MONTHS) -> list[tuple]:
    result = []
    month = since.date()
    for _ in range(count):
        result.append((month, months.get(month, {}).get("requests", 0)))
        month = (month + timedelta(days=32)).replace(day=1)
    return result


def _top_assets_from_months(since, limit: int = TOP_ASSETS) -> list[dict]:
    start = timezone.localtime(since, _tenant_zone()).date()
    return list(
        AssetMonthlyCount.objects.filter(month__gte=start)
        .values("asset_id", name=F("asset__name"), asset_tag=F("asset__asset_tag"))
        .annotate(count=Sum("requests"))
        .filter(count__gt=0)
        .order_by("-count", "name", "asset_id")[:limit]
    )


# --- Lists beside the figures, and the home pages ------------------------------------


def dashboard_overdue(user, now=None, limit: int = OVERDUE_SHOWN) -> list:
    """
    The visible requests overdue at ``now``, the longest overdue first, at
    most ``limit``, with what a list shows joined in: one query, answered
    from the small open backlog whatever the history holds.
    """
    now = now or timezone.now()
    return list(
        request_list_visible_to(user)
        .filter(overdue_condition(now))
        .order_by("due_at", "pk")[:limit]
    )


def home_kind(user) -> str:
    """
    Which home page ``user`` gets: "dashboard" for leads (they steer every
    request), "queue" for technicians (their work first), "requests" for
    everyone else (what they filed).
    """
    if user_is_lead(user):
        return "dashboard"
    if user_is_technician(user):
        return "queue"
    return "requests"


def _soonest_due_first(requests):
    return requests.order_by(F("due_at").asc(nulls_last=True), "created", "pk")


def technician_queue(user, limit: int = QUEUE_SHOWN) -> list:
    """A technician's open requests, soonest due first: one query."""
    return list(
        _soonest_due_first(
            request_list_visible_to(user).filter(assignee=user, status__in=OPEN_STATUSES)
        )[:limit]
    )


def technician_unassigned(user, limit: int = QUEUE_SHOWN) -> list:
    """
    Open requests of ``user``'s trades nobody is assigned to, soonest due
    first: two queries (the trades, the requests), none without trades.
    """
    trades = user_trades(user)
    if not trades:
        return []
    return list(
        _soonest_due_first(
            request_list_visible_to(user).filter(
                assignee__isnull=True, type__in=trades, status__in=OPEN_STATUSES
            )
        )[:limit]
    )


def requester_requests(user, limit: int = QUEUE_SHOWN) -> list:
    """The requests ``user`` filed, newest first: one query."""
    return list(request_list_visible_to(user).filter(requester=user).order_by("-created")[:limit])
