"""
The dashboard page (KPI cards, chart data, overdue list, top assets), the
home page by role, the tenant's time zone on pages, and query bounds.
"""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import BuiltinRole
from accounts.services import user_trades_set
from assets.services import asset_create
from requests_app.models import MaintenanceRequest
from requests_app.services import request_create, request_transition
from tenants.services import tenant_update


@pytest.fixture
def people(alpha, make_people):
    tenant_update(tenant=alpha, actor="test", max_assets=None, max_requests_per_month=None)
    return make_people(
        alpha,
        manager=BuiltinRole.MANAGER,
        tech=BuiltinRole.TECHNICIAN,
        ann=BuiltinRole.REQUESTER,
        bob=BuiltinRole.REQUESTER,
    )


def overdue(request, due_at):
    """Moves a request's due date into the past, behind the services' back (they set it)."""
    MaintenanceRequest.objects.filter(pk=request.pk).update(due_at=due_at)
    request.refresh_from_db()
    return request


def assign(request, manager, technician):
    request_transition(request=request, to_status="triaged", by=manager)
    request_transition(request=request, to_status="assigned", by=manager, assignee=technician)


def chart_data(html):
    match = re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', html)
    assert match, "no chart data on the page"
    return json.loads(match.group(1))


def test_the_dashboard_shows_kpis_charts_overdue_and_top_assets(alpha_client, people):
    manager, tech, ann = people["manager"], people["tech"], people["ann"]
    boiler = asset_create(name="Boiler", asset_tag="B-1")
    first = request_create(
        title="Leaking valve", requester=ann, type="plumbing", priority="high", asset=boiler
    )
    start = first.created
    request_transition(
        request=first, to_status="triaged", by=manager, now=start + timedelta(hours=3)
    )
    request_transition(
        request=first,
        to_status="assigned",
        by=manager,
        assignee=tech,
        now=start + timedelta(hours=4),
    )
    request_transition(
        request=first, to_status="in_progress", by=tech, now=start + timedelta(hours=5)
    )
    request_transition(
        request=first, to_status="resolved", by=tech, now=start + timedelta(hours=26, minutes=30)
    )
    late = overdue(
        request_create(title="No light", requester=ann, type="electrical", asset=boiler),
        timezone.now() - timedelta(hours=2),
    )
    request_create(title="Cold office", requester=ann, type="hvac", priority="low")

    alpha_client.force_login(manager)
    response = alpha_client.get("/requests/dashboard/")
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["nav"] == "dashboard"
    # KPI cards: durations as people say them, not "3:00:00".
    kpi = dict(
        re.findall(r'id="kpi-(\w+)".*?<div class="kpi-value[^"]*">([^<]*)</div>', html, re.S)
    )
    assert kpi == {"open": "2", "overdue": "1", "mtta": "3 h", "mttr": "1 d 2 h"}
    # Charts: drawn by a script file from JSON data; no inline script.
    data = chart_data(html)
    statuses = dict(zip(data["status"]["labels"], data["status"]["values"], strict=True))
    assert (statuses["New"], statuses["Resolved"], statuses["Closed"]) == (2, 1, 0)
    assert data["status"]["tones"][0] == "primary"
    types = dict(zip(data["type"]["labels"], data["type"]["values"], strict=True))
    assert (types["Plumbing"], types["Electrical"], types["HVAC"]) == (1, 1, 1)
    priorities = dict(zip(data["priority"]["labels"], data["priority"]["values"], strict=True))
    assert (priorities["High"], priorities["Medium"], priorities["Low"]) == (1, 1, 1)
    assert len(data["per_month"]["values"]) == 12 and data["per_month"]["values"][-1] == 3
    assert "vendor/chartjs/chart.umd.min.js" in html and "js/dashboard.js" in html
    assert re.findall(r"<script(?![^>]*(?:src=|application/json))", html) == []
    # The overdue list links the late request; the top assets list the boiler.
    assert f'href="/requests/{late.pk}/"' in html and late.reference in html
    overdue_section = html[html.index('id="overdue-title"') : html.index('id="assets-title"')]
    assert first.reference not in overdue_section
    assert f'href="/assets/{boiler.pk}/"' in html and ">2</span>" in html


def test_a_requester_sees_only_their_own_figures(alpha_client, people):
    request_create(title="Mine", requester=people["ann"])
    theirs = overdue(
        request_create(title="Theirs", requester=people["bob"]),
        timezone.now() - timedelta(hours=1),
    )
    alpha_client.force_login(people["ann"])
    html = alpha_client.get("/requests/dashboard/").content.decode()
    assert sum(chart_data(html)["status"]["values"]) == 1
    assert theirs.reference not in html
    assert "Nothing is overdue." in html


def test_the_dashboard_needs_a_login(alpha_client, people):
    response = alpha_client.get("/requests/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_dashboard_query_count_does_not_grow_with_the_rows(alpha_client, people):
    manager, ann = people["manager"], people["ann"]
    boiler = asset_create(name="Boiler", asset_tag="B-1")

    def add(count):
        for _ in range(count):
            overdue(
                request_create(title="Late", requester=ann, asset=boiler),
                timezone.now() - timedelta(hours=1),
            )

    def queries():
        alpha_client.force_login(manager)
        with CaptureQueriesContext(connection) as captured:
            response = alpha_client.get("/requests/dashboard/")
        assert response.status_code == 200
        return len(captured)

    add(3)
    few = queries()
    add(27)
    assert queries() == few


# --- Home page ------------------------------------------------------------------------


def test_a_lead_goes_home_to_the_dashboard(alpha_client, people):
    alpha_client.force_login(people["manager"])
    response = alpha_client.get("/")
    assert response.status_code == 302 and response["Location"] == "/requests/dashboard/"


def test_a_technicians_home_is_their_queue_first(alpha_client, people):
    manager, tech, ann = people["manager"], people["tech"], people["ann"]
    user_trades_set(user=tech, trades=["plumbing"])
    mine = request_create(title="Assigned to tech", requester=ann, type="plumbing")
    assign(mine, manager, tech)
    waiting = request_create(title="Unassigned plumbing", requester=ann, type="plumbing")
    other_trade = request_create(title="Electrical job", requester=ann, type="electrical")
    alpha_client.force_login(tech)
    response = alpha_client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "My queue" in html
    assert (
        html.index(mine.reference)
        < html.index("Waiting for someone")
        < html.index(waiting.reference)
    )
    assert other_trade.reference not in html


def test_a_requesters_home_is_their_requests(alpha_client, people):
    own = request_create(title="Broken chair", requester=people["ann"])
    other = request_create(title="Bob's desk", requester=people["bob"])
    alpha_client.force_login(people["ann"])
    html = alpha_client.get("/").content.decode()
    assert "My requests" in html and own.reference in html and other.reference not in html
    assert 'href="/requests/new/"' in html and "New request" in html


def test_home_needs_a_login(alpha_client, people):
    response = alpha_client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["tech", "ann"])
def test_the_home_query_count_does_not_grow_with_the_rows(alpha_client, people, who):
    manager, tech, ann = people["manager"], people["tech"], people["ann"]
    user_trades_set(user=tech, trades=["plumbing"])

    def add(count):
        for _ in range(count):
            request = request_create(title="Job", requester=ann, type="plumbing")
            assign(request, manager, tech)
            request_create(title="Waiting", requester=ann, type="plumbing")

    def queries():
        alpha_client.force_login(people[who])
        with CaptureQueriesContext(connection) as captured:
            response = alpha_client.get("/")
        assert response.status_code == 200
        return len(captured)

    add(3)
    few = queries()
    add(27)
    assert queries() == few


# --- The tenant's time zone ---------------------------------------------------------


def test_pages_show_times_in_the_tenants_time_zone(alpha, alpha_client, people):
    tenant_update(tenant=alpha, actor="test", timezone="Asia/Tokyo")
    late = overdue(
        request_create(title="Late", requester=people["ann"]),
        datetime(2026, 1, 5, 0, 30, tzinfo=UTC),
    )
    alpha_client.force_login(people["manager"])
    html = alpha_client.get("/requests/dashboard/").content.decode()
    assert late.reference in html
    assert "5 Jan 2026 09:30" in html  # 00:30 UTC is 09:30 in Tokyo
    assert "5 Jan 2026 00:30" not in html
    # Deactivated after the response: nothing leaks into the next request on this thread.
    assert timezone.get_current_timezone_name() == "UTC"


def test_the_main_domain_stays_in_utc(public_client, public_tenant):
    response = public_client.get("/")
    assert response.status_code == 200
    assert timezone.get_current_timezone_name() == "UTC"
