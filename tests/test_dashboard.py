"""
The dashboard selectors (requests_app/dashboard/selectors.py): their figures on a small
data set worked out by hand, visibility, and a query count that does not
grow with the number of requests.

The data is moved back in time behind the services' back (``created`` is
not theirs to change), so the rollup is recounted after each such change,
as a bulk load would; tests/test_dashboard_rollup.py checks that the
services keep it right on their own.
"""

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.roles import BuiltinRole
from accounts.services import user_trades_set
from assets.services import asset_create
from requests_app.dashboard import selectors as dashboard
from requests_app.dashboard.rollup import dashboard_rollup_rebuild
from requests_app.dashboard.views import dashboard_view
from requests_app.models import MaintenanceRequest
from requests_app.services import (
    due_at_for,
    request_create,
    request_transition,
)
from tenants.services import tenant_update

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def people(alpha, make_people):
    # Paris, so that a request filed on 28 February at 23:30 UTC is a March one.
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
        ann=BuiltinRole.REQUESTER,
        bob=BuiltinRole.REQUESTER,
    )


def filed(created, **fields):
    """A request filed through the service, then moved back in time to ``created``."""
    request = request_create(title="Request", **fields)
    MaintenanceRequest.objects.filter(pk=request.pk).update(
        created=created, due_at=due_at_for(request.priority, created)
    )
    dashboard_rollup_rebuild()
    request.refresh_from_db()
    return request


@pytest.fixture
def data(people):
    """
    Five requests (times relative to NOW, 15 June 2026 12:00 UTC):

    - r1 ann, plumbing/high, boiler, 10 days ago; triaged after 2 h, resolved after 26 h;
    - r2 ann, electrical/urgent, boiler, 5 days ago; triaged after 4 h; overdue (4 h SLA);
    - r3 bob, hvac/low, pump, 28 Feb 23:30 UTC (March in Paris); new; overdue;
    - r4 bob, general/medium, 400 days ago (outside the window); new; overdue;
    - r5 ann, general/medium, yesterday; cancelled by ann.
    """
    manager, tech, ann, bob = (people[n] for n in ("manager", "tech", "ann", "bob"))
    boiler = asset_create(name="Boiler", asset_tag="B-1")
    pump = asset_create(name="Pump", asset_tag="P-1")

    r1 = filed(NOW - timedelta(days=10), requester=ann, type="plumbing", priority="high")
    MaintenanceRequest.objects.filter(pk=r1.pk).update(asset=boiler)
    start = r1.created
    request_transition(request=r1, to_status="triaged", by=manager, now=start + timedelta(hours=2))
    request_transition(
        request=r1, to_status="assigned", by=manager, assignee=tech, now=start + timedelta(hours=3)
    )
    request_transition(request=r1, to_status="in_progress", by=tech, now=start + timedelta(hours=5))
    request_transition(request=r1, to_status="resolved", by=tech, now=start + timedelta(hours=26))

    r2 = filed(
        NOW - timedelta(days=5), requester=ann, type="electrical", priority="urgent", asset=boiler
    )
    request_transition(
        request=r2, to_status="triaged", by=manager, now=r2.created + timedelta(hours=4)
    )

    filed(datetime(2026, 2, 28, 23, 30, tzinfo=UTC), requester=bob, type="hvac", priority="low")
    MaintenanceRequest.objects.filter(type="hvac").update(asset=pump)
    filed(NOW - timedelta(days=400), requester=bob, type="general", priority="medium")
    r5 = filed(NOW - timedelta(days=1), requester=ann, type="general", priority="medium")
    request_transition(
        request=r5, to_status="cancelled", by=ann, now=r5.created + timedelta(minutes=1)
    )
    dashboard_rollup_rebuild()  # the assets were set behind the services' back
    return people


def fresh(user):
    """The user as a view would get it: roles not cached yet."""
    return User.objects.get(pk=user.pk)


def test_the_window_is_twelve_calendar_months_in_the_tenants_time_zone(people):
    start = dashboard.dashboard_window_start(NOW)
    assert start.isoformat() == "2025-07-01T00:00:00+02:00"
    assert dashboard.dashboard_window_start(NOW, months=1).isoformat() == (
        "2026-06-01T00:00:00+02:00"
    )


def test_a_manager_sees_every_figure(data):
    summary = dashboard.dashboard_summary(data["manager"], now=NOW)
    assert summary["total"] == 4  # r4 was filed before the window
    assert {k: v for k, v in summary["status"].items() if v} == {
        "new": 1,
        "triaged": 1,
        "resolved": 1,
        "cancelled": 1,
    }
    assert summary["status"]["closed"] == 0
    assert summary["type"] == {"electrical": 1, "plumbing": 1, "hvac": 1, "general": 1}
    assert summary["priority"] == {"low": 1, "medium": 1, "high": 1, "urgent": 1}
    # Open requests count whenever filed: r2, r3 and r4, all past due.
    assert (summary["open"], summary["overdue"]) == (3, 3)
    assert summary["mean_acknowledge"] == timedelta(hours=3)  # r1 2 h, r2 4 h
    assert summary["mean_resolve"] == timedelta(hours=26)

    per_month = dashboard.dashboard_requests_per_month(data["manager"], now=NOW)
    assert [m for m, _ in per_month] == [
        date(2025, 7, 1),
        *(date(2026 if m <= 6 else 2025, m, 1) for m in [8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6]),
    ]
    assert {m: n for m, n in per_month if n} == {date(2026, 3, 1): 1, date(2026, 6, 1): 3}

    assert [
        (a["name"], a["asset_tag"], a["count"])
        for a in dashboard.dashboard_top_assets(data["manager"], now=NOW)
    ] == [("Boiler", "B-1", 2), ("Pump", "P-1", 1)]


def test_a_requester_counts_only_their_own_requests(data):
    ann = data["ann"]
    summary = dashboard.dashboard_summary(ann, now=NOW)
    assert summary["total"] == 3
    assert {k: v for k, v in summary["status"].items() if v} == {
        "triaged": 1,
        "resolved": 1,
        "cancelled": 1,
    }
    assert (summary["open"], summary["overdue"]) == (1, 1)
    assert summary["mean_acknowledge"] == timedelta(hours=3)
    assert {m: n for m, n in dashboard.dashboard_requests_per_month(ann, now=NOW) if n} == {
        date(2026, 6, 1): 3
    }
    assert [a["name"] for a in dashboard.dashboard_top_assets(ann, now=NOW)] == ["Boiler"]

    bob = dashboard.dashboard_summary(data["bob"], now=NOW)
    assert (bob["total"], bob["open"], bob["overdue"]) == (1, 2, 2)
    assert bob["mean_acknowledge"] is None


def test_a_dashboard_with_nothing_in_it(people):
    everything = dashboard.dashboard_get(people["manager"], now=NOW)
    assert everything["summary"]["total"] == 0
    assert everything["summary"]["mean_resolve"] is None
    assert [n for _, n in everything["per_month"]] == [0] * 12
    assert everything["top_assets"] == []


def queries_for(user, now):
    user = fresh(user)
    with CaptureQueriesContext(connection) as captured:
        dashboard.dashboard_get(user, now=now)
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize("who", ["manager", "ann", "tech"])
def test_the_query_count_does_not_grow_with_the_data(people, who):
    user = people[who]
    if who == "tech":
        user_trades_set(user=user, trades=["plumbing"])
    asset = asset_create(name="Boiler", asset_tag="B-1")

    def add(count):
        for index in range(count):
            filed(
                NOW - timedelta(days=index * 13),
                requester=people["ann"],
                type="plumbing",
                priority="high",
                asset=asset,
            )

    add(2)
    small = queries_for(user, NOW)
    small_total = dashboard.dashboard_summary(user, now=NOW)["total"]
    add(28)
    large = queries_for(user, NOW)
    assert len(large) == len(small)
    # Three aggregates for a requester or a technician; a manager's come
    # from the rollup: its state, the months, the open requests and the
    # assets. Around them, the user's roles (and a technician's trades),
    # whose cost is the accounts app's business.
    dashboard_queries = [
        sql for sql in small if "requests_app_" in sql and "techniciantrade" not in sql
    ]
    assert len(dashboard_queries) == (4 if who == "manager" else 3)
    if who == "manager":
        assert any("requests_app_requestmonthlycount" in sql for sql in large)
    # The figures did grow (2 + 27 of the 30 are in the window): the count
    # was not constant because the queries saw nothing.
    assert (small_total, dashboard.dashboard_summary(user, now=NOW)["total"]) == (2, 29)


def test_the_page_shows_the_figures(data, alpha):
    request = RequestFactory().get("/dashboard/")
    request.user = fresh(data["manager"])
    request.tenant = alpha
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        response = dashboard_view(request)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Overdue" in html and ">3<" in html
    assert "Boiler" in html and "B-1" in html
    assert ">3 h<" in html  # mean time to acknowledge, as people say it
