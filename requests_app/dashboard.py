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
See docs/requests.md, "Dashboard", and bench/dashboard.py.
"""

import zoneinfo
from datetime import datetime, timedelta

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from requests_app.models import MaintenanceRequest, Priority, RequestType, Status
from requests_app.selectors import request_visibility_filter
from tenants.selectors import current_tenant

# A request in one of these is finished: it can no longer be overdue.
FINISHED_STATUSES = (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)
OPEN_STATUSES = tuple(status for status in Status if status not in FINISHED_STATUSES)
MONTHS = 12
TOP_ASSETS = 5


def _visible(user):
    """The requests ``user`` may see, without the list's joins (aggregates need none)."""
    condition = request_visibility_filter(user)
    requests = MaintenanceRequest.objects.order_by()
    return requests if condition is None else requests.filter(condition)


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
    Counts and means for ``user``'s dashboard, in one query.

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
    return _summary(_visible(user), now or timezone.now(), since)


def _summary(requests, now, since=None) -> dict:
    since = since or dashboard_window_start(now)
    recent = Q(created__gte=since)
    is_open = Q(status__in=OPEN_STATUSES)
    aggregates = {"total": Count("pk", filter=recent)}
    for prefix, field, choices in (
        ("status", "status", Status),
        ("type", "type", RequestType),
        ("priority", "priority", Priority),
    ):
        for choice in choices:
            aggregates[f"{prefix}__{choice.value}"] = Count(
                "pk", filter=recent & Q(**{field: choice.value})
            )
    aggregates["open"] = Count("pk", filter=is_open)
    aggregates["overdue"] = Count("pk", filter=is_open & Q(due_at__lt=now))
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
    return _per_month(_visible(user), now or timezone.now(), months)


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
    return _top_assets(_visible(user), now or timezone.now(), since, limit)


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
    queries, after working out once what the user may see.
    """
    now = now or timezone.now()
    requests = _visible(user)
    return {
        "summary": _summary(requests, now),
        "per_month": _per_month(requests, now),
        "top_assets": _top_assets(requests, now),
    }
