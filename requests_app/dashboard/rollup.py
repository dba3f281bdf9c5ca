"""
The dashboard rollup: monthly counts kept by the services in the writing
transaction, so that a lead's dashboard reads a few hundred rollup rows
instead of every request filed in the last 12 months.

Each request contributes to one ``RequestMonthlyCount`` row (the month it was
filed in, in the tenant's time zone, and its status, type and priority now),
with its time to acknowledge and to resolve if it has them, and, if it has
an asset, to one ``AssetMonthlyCount`` row. A service that changes a request
takes its facts before and after (``rollup_facts``) and calls
``rollup_record(before, after)``, which takes the old contribution away and
adds the new one. The rollup is therefore a function of the rows: whatever
changed (status, reopening, a new priority or asset), only the difference is
written, and ``dashboard_rollup_rebuild`` can recompute it from scratch.

Concurrency: the difference is written with one
``INSERT ... ON CONFLICT DO UPDATE SET n = n + EXCLUDED.n`` per table, never
read-modify-write, so concurrent writers never lose each other's updates;
the rows are written in key order, so two writers lock them in the same
order. The row lock lasts until the writer commits, so writes about requests
filed in the same month with the same status, type and priority queue
briefly on it (creations queue on the request number already). The ORM's
``bulk_create(update_conflicts=True)`` cannot add to a column (it writes
``EXCLUDED.n``), hence the SQL.

A rollback takes the difference back with everything else. A rebuild locks
``DashboardRollupState`` ``FOR UPDATE``, and writers read it ``FOR KEY
SHARE``: a write either finishes before the rebuild counts, or waits and adds
its difference to the rebuilt figures.
"""

from collections import defaultdict
from datetime import date, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from requests_app.models import (
    AssetMonthlyCount,
    DashboardRollupState,
    MaintenanceRequest,
    RequestMonthlyCount,
)
from tenants.selectors import current_tenant

ONE_MICROSECOND = timedelta(microseconds=1)


class RequestFacts(NamedTuple):
    """What the rollup counts of one request."""

    created: object
    status: str
    type: str
    priority: str
    asset_id: int | None
    acknowledge: timedelta | None
    resolve: timedelta | None


def rollup_facts(request: MaintenanceRequest) -> RequestFacts:
    """The facts of ``request`` as it is in memory now (take them before and after a change)."""

    def since_filed(stamp):
        return None if stamp is None else stamp - request.created

    return RequestFacts(
        created=request.created,
        status=str(request.status),
        type=str(request.type),
        priority=str(request.priority),
        asset_id=request.asset_id,
        acknowledge=since_filed(request.triaged_at),
        resolve=since_filed(request.resolved_at),
    )


def month_of(moment, zone: ZoneInfo) -> date:
    """The first day of ``moment``'s calendar month in ``zone``."""
    return timezone.localtime(moment, zone).date().replace(day=1)


def _zone_for_writing() -> str | None:
    """
    The zone the rollup's months are cut in, binding an unbound (empty)
    rollup to the tenant's; None when the rollup is stale (no state row, or
    the tenant's zone changed) and the write should leave it to a rebuild.
    """
    table = connection.ops.quote_name(DashboardRollupState._meta.db_table)
    zone = current_tenant().timezone
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT timezone FROM {table} WHERE id = 1 FOR KEY SHARE")  # noqa: S608
        row = cursor.fetchone()
        if row is None:
            return None
        if row[0] == "":
            # Nothing counted yet; a concurrent first writer may bind it too,
            # to the same zone: the second UPDATE then matches nothing.
            cursor.execute(
                f"UPDATE {table} SET timezone = %s WHERE id = 1 AND timezone = ''",  # noqa: S608
                [zone],
            )
            return zone
    return zone if row[0] == zone else None


def _upsert(model, key_fields: list[str], value_fields: list[str], rows: list[tuple]):
    """Add each row's values to the row with its key, creating it at zero first. One query."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = [model._meta.get_field(name).column for name in (*key_fields, *value_fields)]
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(rows))
    key = ", ".join(quote(model._meta.get_field(name).column) for name in key_fields)
    additions = ", ".join(
        f"{quote(column)} = {table}.{quote(column)} + EXCLUDED.{quote(column)}"
        for column in columns[len(key_fields) :]
    )
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES {placeholders} ON CONFLICT ({key}) DO UPDATE SET {additions}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for row in rows for value in row])


def rollup_record(before: RequestFacts | None, after: RequestFacts | None) -> None:
    """
    Move the rollup from ``before`` (None: the request is new) to ``after``,
    in the caller's transaction. Costs nothing when no counted fact changed.
    """
    if before == after:
        return
    zone_name = _zone_for_writing()
    if zone_name is None:
        return
    zone = ZoneInfo(zone_name)
    counts = defaultdict(lambda: [0, 0, 0, 0, 0])
    assets = defaultdict(int)
    for facts, sign in ((before, -1), (after, 1)):
        if facts is None:
            continue
        month = month_of(facts.created, zone)
        row = counts[month, facts.status, facts.type, facts.priority]
        row[0] += sign
        if facts.acknowledge is not None:
            row[1] += sign
            row[2] += sign * (facts.acknowledge // ONE_MICROSECOND)
        if facts.resolve is not None:
            row[3] += sign
            row[4] += sign * (facts.resolve // ONE_MICROSECOND)
        if facts.asset_id is not None:
            assets[month, facts.asset_id] += sign
    _upsert(
        RequestMonthlyCount,
        ["month", "status", "type", "priority"],
        ["requests", "acknowledged", "acknowledge_us", "resolved", "resolve_us"],
        sorted((*key, *values) for key, values in counts.items() if any(values)),
    )
    _upsert(
        AssetMonthlyCount,
        ["month", "asset"],
        ["requests"],
        sorted((*key, n) for key, n in assets.items() if n),
    )


def rollup_zone() -> str | None:
    """
    The zone the rollup can be read in: the tenant's when the rollup is
    current for it (or unbound, hence empty), else None (read the rows).
    """
    zone = DashboardRollupState.objects.filter(pk=1).values_list("timezone", flat=True).first()
    tenant_zone = current_tenant().timezone
    if zone is None or zone not in ("", tenant_zone):
        return None
    return tenant_zone


@transaction.atomic
def dashboard_rollup_rebuild() -> int:
    """
    Recount the current tenant's rollup from its requests, in its time zone.
    For existing data (the migration, bulk loads that bypass the services,
    a changed time zone) and for repair. Returns the number of requests
    counted. Writers wait for it (see the module's docstring).
    """
    zone = current_tenant().timezone
    DashboardRollupState.objects.bulk_create([DashboardRollupState(pk=1)], ignore_conflicts=True)
    state = DashboardRollupState.objects.select_for_update().get(pk=1)
    RequestMonthlyCount.objects.all().delete()
    AssetMonthlyCount.objects.all().delete()
    requests = connection.ops.quote_name(MaintenanceRequest._meta.db_table)
    counts = connection.ops.quote_name(RequestMonthlyCount._meta.db_table)
    assets = connection.ops.quote_name(AssetMonthlyCount._meta.db_table)
    month = "date_trunc('month', created AT TIME ZONE %(zone)s)::date"
    # EXTRACT(EPOCH FROM interval) is numeric, exact to the microsecond, as
    # ``timedelta // ONE_MICROSECOND`` is on the services' side.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {counts} (month, status, type, priority, requests,
                acknowledged, acknowledge_us, resolved, resolve_us)
            SELECT {month}, status, type, priority, count(*),
                count(triaged_at),
                coalesce(sum(extract(epoch FROM triaged_at - created) * 1000000), 0),
                count(resolved_at),
                coalesce(sum(extract(epoch FROM resolved_at - created) * 1000000), 0)
            FROM {requests} GROUP BY 1, 2, 3, 4
            """,  # noqa: S608 (our table names)
            {"zone": zone},
        )
        cursor.execute(
            f"""
            INSERT INTO {assets} (month, asset_id, requests)
            SELECT {month}, asset_id, count(*) FROM {requests}
            WHERE asset_id IS NOT NULL GROUP BY 1, 2
            """,  # noqa: S608 (our table names)
            {"zone": zone},
        )
        cursor.execute(f"SELECT count(*) FROM {requests}")  # noqa: S608
        total = cursor.fetchone()[0]
    state.timezone = zone
    state.rebuilt_at = timezone.now()
    state.save()
    return total
