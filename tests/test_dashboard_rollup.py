"""
The dashboard rollup (requests_app/dashboard/rollup.py) kept by the services: after a
mixed series of creations, steps, edits and a rollback, a lead's dashboard
(read from the rollup) equals the live queries over the rows, and the
rollup equals a recount from scratch. Also: a changed time zone falls back
to the live queries until a rebuild, the command, and concurrent steps
losing no update.
"""

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from assets.services import asset_create
from requests_app.dashboard import selectors as dashboard
from requests_app.dashboard.rollup import dashboard_rollup_rebuild, rollup_zone
from requests_app.models import (
    AssetMonthlyCount,
    DashboardRollupState,
    MaintenanceRequest,
    RequestMonthlyCount,
)
from requests_app.services import (
    TransitionRefused,
    request_create,
    request_transition,
    request_update,
    requests_close_resolved,
)
from tenants.services import tenant_update


class RolledBack(Exception):
    pass


@pytest.fixture
def people(alpha, make_people):
    tenant_update(
        tenant=alpha,
        actor="test",
        max_assets=None,
        max_requests_per_month=None,
        timezone="Europe/Paris",
    )
    return make_people(
        alpha,
        manager=BuiltinRole.MANAGER,
        tech=BuiltinRole.TECHNICIAN,
        tech2=BuiltinRole.TECHNICIAN,
        ann=BuiltinRole.REQUESTER,
    )


def filed_at(moment, **fields):
    """A request filed through the service as if at ``moment``."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return request_create(**fields)


def live(now):
    """The dashboard as the live queries answer it over every request (what a lead sees)."""
    requests = MaintenanceRequest.objects.order_by()
    return {
        "summary": dashboard._summary(requests, now),
        "per_month": dashboard._per_month(requests, now),
        "top_assets": dashboard._top_assets(requests, now),
    }


def rollup_rows():
    """The rollup's non-zero rows, comparable across a rebuild."""
    counts = {
        (row.month, row.status, row.type, row.priority): (
            row.requests,
            row.acknowledged,
            row.acknowledge_us,
            row.resolved,
            row.resolve_us,
        )
        for row in RequestMonthlyCount.objects.all()
        if (row.requests, row.acknowledged, row.resolved) != (0, 0, 0)
    }
    assets = {
        (row.month, row.asset_id): row.requests
        for row in AssetMonthlyCount.objects.all()
        if row.requests
    }
    return counts, assets


def assert_same(from_rollup, from_rows):
    """Equal, but for the means, which may differ by PostgreSQL's rounding of AVG(interval)."""
    a, b = dict(from_rollup["summary"]), dict(from_rows["summary"])
    for mean in ("mean_acknowledge", "mean_resolve"):
        x, y = a.pop(mean), b.pop(mean)
        assert (x is None) == (y is None), mean
        if x is not None:
            assert abs(x - y) <= timedelta(microseconds=1), mean
    assert a == b
    assert from_rollup["per_month"] == from_rows["per_month"]
    assert from_rollup["top_assets"] == from_rows["top_assets"]


def test_the_rollup_matches_the_rows_after_a_mixed_series(people):
    manager, tech, tech2, ann = (people[n] for n in ("manager", "tech", "tech2", "ann"))
    boiler = asset_create(name="Boiler", asset_tag="B-1")
    pump = asset_create(name="Pump", asset_tag="P-1")
    now = timezone.now()

    # Months apart, one at a Paris month's edge, one outside the window.
    old = filed_at(now - timedelta(days=400), title="Old", requester=ann, priority="low")
    edge = filed_at(
        datetime(now.year, now.month, 1, tzinfo=UTC) - timedelta(minutes=30),
        title="Edge",
        requester=ann,
        type="hvac",
        asset=pump,
    )
    r1 = filed_at(now - timedelta(days=40), title="R1", requester=ann, type="plumbing")
    r2 = filed_at(
        now - timedelta(days=20), title="R2", requester=ann, type="electrical", asset=boiler
    )
    r3 = filed_at(now - timedelta(hours=5), title="R3", requester=ann, priority="urgent")
    r4 = request_create(title="R4", requester=ann, asset=boiler)

    # r1: the whole way, reassigned, held, resolved, reopened, resolved again, closed.
    request_transition(request=r1, to_status="triaged", by=manager)
    request_transition(request=r1, to_status="assigned", by=manager, assignee=tech)
    request_transition(request=r1, to_status="assigned", by=manager, assignee=tech2)  # reassignment
    request_transition(request=r1, to_status="in_progress", by=tech2)
    request_transition(request=r1, to_status="on_hold", by=tech2)
    request_transition(request=r1, to_status="in_progress", by=tech2)
    request_transition(request=r1, to_status="resolved", by=tech2)
    request_transition(request=r1, to_status="reopened", by=ann)
    request_transition(request=r1, to_status="in_progress", by=tech2)
    request_transition(
        request=r1, to_status="resolved", by=tech2, now=timezone.now() + timedelta(hours=3)
    )
    request_transition(request=r1, to_status="closed", by=manager)

    # r2: priority and asset changed by a lead, then resolved and closed by the system.
    request_update(request=r2, by=manager, priority="urgent", asset=pump)
    request_transition(request=r2, to_status="triaged", by=manager)
    request_transition(request=r2, to_status="assigned", by=manager, assignee=tech)
    request_transition(request=r2, to_status="in_progress", by=tech)
    request_transition(
        request=r2, to_status="resolved", by=tech, now=timezone.now() - timedelta(days=10)
    )
    assert requests_close_resolved() == 1

    # r3: cancelled by its requester; the edge request loses its asset and is triaged.
    request_transition(request=r3, to_status="cancelled", by=ann)
    request_update(request=edge, by=manager, asset=None, title="Edge, no asset")
    request_transition(request=edge, to_status="triaged", by=manager)

    # A step and an edit rolled back by the caller, and a refused step: no trace.
    with pytest.raises(RolledBack), transaction.atomic():
        request_transition(request=r4, to_status="triaged", by=manager)
        request_update(request=r4, by=manager, priority="high", asset=pump)
        request_create(title="Never", requester=ann, type="hvac")
        raise RolledBack
    with pytest.raises(TransitionRefused):
        request_transition(request=r4, to_status="resolved", by=manager)
    request_transition(request=old, to_status="cancelled", by=manager)

    assert rollup_zone() == "Europe/Paris"
    manager.refresh_from_db()
    from_rollup = dashboard.dashboard_get(manager)
    from_rows = live(timezone.now())
    assert_same(from_rollup, from_rows)
    summary = from_rollup["summary"]
    assert summary["total"] == 5  # "old" is outside the window
    assert (summary["status"]["closed"], summary["status"]["new"]) == (2, 1)
    assert summary["priority"]["urgent"] == 2
    assert summary["open"] == 2  # r4, edge
    assert [a["name"] for a in from_rollup["top_assets"]] == ["Boiler", "Pump"]

    # The selectors one by one give the same, and so does a recount.
    assert dashboard.dashboard_summary(manager) == from_rollup["summary"]
    assert dashboard.dashboard_requests_per_month(manager) == from_rollup["per_month"]
    assert dashboard.dashboard_top_assets(manager) == from_rollup["top_assets"]
    kept = rollup_rows()
    assert dashboard_rollup_rebuild() == 6
    assert rollup_rows() == kept


def test_a_changed_time_zone_reads_the_rows_until_rebuilt(people, alpha):
    request_create(title="One", requester=people["ann"])
    assert rollup_zone() == "Europe/Paris"
    tenant_update(tenant=alpha, actor="test", timezone="Pacific/Auckland")
    assert rollup_zone() is None
    # Still right, from the rows; and writes leave the stale rollup alone.
    request_create(title="Two", requester=people["ann"])
    now = timezone.now()
    assert_same(dashboard.dashboard_get(people["manager"], now=now), live(now))
    output = io.StringIO()
    call_command("rebuild_dashboard_rollup", "alpha", stdout=output)
    assert "alpha: 2 request(s) counted." in output.getvalue()
    assert DashboardRollupState.objects.get().timezone == "Pacific/Auckland"
    assert rollup_zone() == "Pacific/Auckland"
    assert_same(dashboard.dashboard_get(people["manager"], now=now), live(now))


def test_a_window_not_on_a_month_reads_the_rows(people):
    request_create(title="One", requester=people["ann"], priority="high")
    since = timezone.now() - timedelta(days=3)
    summary = dashboard.dashboard_summary(people["manager"], since=since)
    assert (summary["total"], summary["since"]) == (1, since)


@pytest.mark.django_db
def test_concurrent_steps_lose_no_update(committed_tenant, in_own_connection):
    """Steps on requests in the same rollup row, in parallel, some rolling back."""
    parallel = 12
    tenant = committed_tenant("rollup-concurrency", plan="premium")

    def setup():
        with tenant_context(tenant):
            roles = roles_provision_defaults()
            manager = user_create(
                email="m@rollup.example", password=None, roles=[roles[BuiltinRole.MANAGER]]
            )
            ids = [request_create(title=f"R{n}").pk for n in range(parallel)]
            return manager, ids

    manager, ids = in_own_connection(setup)
    start = threading.Barrier(parallel)

    def triage(n):
        try:
            with tenant_context(tenant):
                request = MaintenanceRequest.objects.get(pk=ids[n])
                start.wait()
                with transaction.atomic():
                    request_transition(request=request, to_status="triaged", by=manager)
                    if n % 4 == 0:
                        raise RolledBack
        except RolledBack:
            pass
        finally:
            connection.close()

    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(triage, range(parallel)))

    def check():
        with tenant_context(tenant):
            kept = rollup_rows()
            dashboard_rollup_rebuild()
            return kept, rollup_rows()

    kept, recounted = in_own_connection(check)
    assert kept == recounted
    statuses = {key[1]: value[0] for key, value in kept[0].items()}
    assert statuses == {"new": 3, "triaged": 9}
