"""
The preventive-maintenance pages: schedules list, create and edit with the
checklist, pause and resume, upcoming dates, the plan gate, permissions by
role, and query counts that do not grow with the rows.
"""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.roles import BuiltinRole
from assets.services import asset_create, asset_retire
from billing.services import tenant_change_plan
from preventive.models import MaintenanceSchedule
from preventive.selectors import tenant_today
from preventive.services import preventive_requests_generate, schedule_create
from tenants.services import tenant_update


@pytest.fixture
def premium(alpha):
    with schema_context(get_public_schema_name()):
        tenant_change_plan(tenant=alpha, plan="premium", actor="test")
        tenant_update(tenant=alpha, actor="test", max_assets=None, max_requests_per_month=None)
    alpha.refresh_from_db()
    return alpha


@pytest.fixture
def people(premium, make_people):
    return make_people(
        premium,
        admin=BuiltinRole.ADMIN,
        manager=BuiltinRole.MANAGER,
        tech=BuiltinRole.TECHNICIAN,
        ann=BuiltinRole.REQUESTER,
    )


@pytest.fixture
def boiler(premium):
    return asset_create(name="Boiler", asset_tag="B-1")


def weekly(asset, **fields):
    values = {
        "asset": asset,
        "title": "Boiler check",
        "recurrence": "weeks",
        "starts_on": date(2030, 3, 4),
        "steps": ["Check pressure", "Bleed radiators"],
    }
    values.update(fields)
    return schedule_create(**values)


def form_data(**fields):
    data = {
        "title": "Filter change",
        "description": "Swap the filters.",
        "request_type": "hvac",
        "priority": "high",
        "recurrence": "weekday",
        "interval": "2",
        "weekday": "0",
        "day_of_month": "",
        "starts_on": "2030-03-01",
        "steps": "Switch off the unit\n\n  Replace the filter  \nSwitch on",
    }
    data.update(fields)
    return data


def query_count(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


# --- Permissions and the plan ---------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("admin", 200), ("manager", 200), ("tech", 403), ("ann", 403)]
)
def test_schedule_pages_by_role(alpha_client, people, boiler, who, status):
    schedule = weekly(boiler)
    alpha_client.force_login(people[who])
    for url in (
        "/schedules/",
        "/schedules/new/",
        f"/schedules/{schedule.pk}/",
        f"/schedules/{schedule.pk}/edit/",
    ):
        assert alpha_client.get(url).status_code == status, url
    response = alpha_client.post(f"/schedules/{schedule.pk}/pause/")
    assert response.status_code == (302 if status == 200 else 403)
    schedule.refresh_from_db()
    assert schedule.active is (status != 200)


def test_anonymous_users_are_sent_to_log_in(alpha_client, premium):
    response = alpha_client.get("/schedules/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_without_the_plan_feature_the_pages_say_so(alpha, alpha_client, make_people):
    manager = make_people(alpha, manager=BuiltinRole.MANAGER)["manager"]
    alpha_client.force_login(manager)
    for url in ("/schedules/", "/schedules/new/"):
        response = alpha_client.get(url)
        assert response.status_code == 403
        assert "Preventive maintenance is not in your plan" in response.content.decode()
    boiler = asset_create(name="Boiler", asset_tag="B-1")
    response = alpha_client.post("/schedules/new/", {"asset": boiler.pk, **form_data()})
    assert response.status_code == 403
    assert not MaintenanceSchedule.objects.exists()


# --- List -------------------------------------------------------------------------------


def test_the_list_shows_schedules_with_next_dates_and_filters_by_status(
    alpha_client, people, boiler
):
    # schedule_next_due looks a year ahead: a start within it.
    starts = tenant_today() + timedelta(days=9)
    running = weekly(boiler, title="Boiler check", starts_on=starts)
    paused = weekly(boiler, title="Chimney sweep", active=False)
    alpha_client.force_login(people["manager"])
    response = alpha_client.get("/schedules/")
    html = response.content.decode()
    assert response.context["nav"] == "schedules"
    assert "Boiler check" in html and "Chimney sweep" not in html
    assert "Every week" in html and starts.strftime("%a %-d %b %Y") in html and "2 steps" in html
    assert f'href="/schedules/{running.pk}/"' in html and 'href="/schedules/new/"' in html
    html = alpha_client.get("/schedules/", {"status": "paused"}).content.decode()
    assert "Chimney sweep" in html and "Boiler check" not in html and "Paused" in html
    html = alpha_client.get("/schedules/", {"status": "all"}).content.decode()
    assert f'href="/schedules/{paused.pk}/"' in html and f'href="/schedules/{running.pk}/"' in html


def test_the_list_query_count_does_not_grow_with_the_rows(alpha_client, people, boiler):
    alpha_client.force_login(people["manager"])
    for number in range(3):
        weekly(boiler, title=f"Check {number}")
    few = query_count(alpha_client, "/schedules/")
    for number in range(3, 30):
        weekly(asset_create(name=f"Pump {number}", asset_tag=f"P-{number}"), title="Check")
    assert query_count(alpha_client, "/schedules/") == few


# --- Create and edit -----------------------------------------------------------------


def test_a_manager_creates_a_schedule_with_its_checklist(alpha_client, people, boiler):
    alpha_client.force_login(people["manager"])
    form = alpha_client.get(f"/schedules/new/?asset={boiler.pk}").content.decode()
    assert f'<option value="{boiler.pk}" selected>' in form
    assert 'name="steps"' in form and "One step per line" in form

    response = alpha_client.post("/schedules/new/", {"asset": boiler.pk, **form_data()})
    schedule = MaintenanceSchedule.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/schedules/{schedule.pk}/"
    assert (schedule.asset, schedule.recurrence, schedule.interval, schedule.weekday) == (
        boiler,
        "weekday",
        2,
        0,
    )
    assert list(schedule.steps.values_list("text", flat=True)) == [
        "Switch off the unit",
        "Replace the filter",
        "Switch on",
    ]
    page = alpha_client.get(response["Location"]).content.decode()
    assert "Filter change" in page and "Every 2 weeks on Monday" in page
    assert "Replace the filter" in page
    # Upcoming: the first Monday on or after 1 March 2030, then every two weeks.
    assert "Mon 4 Mar 2030" in page and "Mon 18 Mar 2030" in page and "Mon 1 Apr 2030" in page


def test_a_bad_schedule_is_a_form_error_and_writes_nothing(alpha_client, people, boiler):
    alpha_client.force_login(people["manager"])
    response = alpha_client.post(
        "/schedules/new/", {"asset": boiler.pk, **form_data(weekday="", title="Kept title")}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Choose the weekday." in html and 'value="Kept title"' in html
    assert "Replace the filter" in html  # the checklist typed is kept too
    assert not MaintenanceSchedule.objects.exists()

    response = alpha_client.post(
        "/schedules/new/", {"asset": boiler.pk, **form_data(steps="x" * 501)}
    )
    assert "Step 1 is longer than 500 characters." in response.content.decode()
    assert not MaintenanceSchedule.objects.exists()


def test_a_retired_asset_takes_no_schedule(alpha_client, people, boiler):
    asset_retire(asset=boiler, user=people["manager"])
    alpha_client.force_login(people["manager"])
    response = alpha_client.post("/schedules/new/", {"asset": boiler.pk, **form_data()})
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    assert not MaintenanceSchedule.objects.exists()


def test_editing_replaces_the_checklist_and_keeps_the_asset(alpha_client, people, boiler):
    schedule = weekly(boiler)
    alpha_client.force_login(people["manager"])
    form = alpha_client.get(f"/schedules/{schedule.pk}/edit/").content.decode()
    assert "Check pressure\nBleed radiators" in form and 'name="asset"' not in form
    other = asset_create(name="Pump", asset_tag="P-1")
    response = alpha_client.post(
        f"/schedules/{schedule.pk}/edit/",
        {**form_data(title="Boiler service", steps="Only step"), "asset": other.pk},
    )
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert (schedule.title, schedule.asset) == ("Boiler service", boiler)
    assert list(schedule.steps.values_list("text", flat=True)) == ["Only step"]


# --- Pause, resume, detail ------------------------------------------------------------


def test_pausing_stops_filing_and_resuming_skips_the_paused_dates(alpha_client, people, boiler):
    today = tenant_today()
    schedule = weekly(
        boiler, recurrence="days", starts_on=today - timedelta(days=10), steps=["Look"]
    )
    alpha_client.force_login(people["manager"])
    response = alpha_client.post(f"/schedules/{schedule.pk}/pause/", follow=True)
    html = response.content.decode()
    assert "Schedule paused" in html and "Paused" in html and "Resume" in html
    schedule.refresh_from_db()
    assert schedule.active is False
    assert preventive_requests_generate().created == []

    response = alpha_client.post(f"/schedules/{schedule.pk}/resume/", follow=True)
    assert "Schedule resumed" in response.content.decode()
    schedule.refresh_from_db()
    assert schedule.active is True
    # The ten days it was paused through are not filed; today's date is.
    created = preventive_requests_generate().created
    assert [occurrence.due_on for occurrence in created] == [today]


def test_the_detail_page_lists_the_requests_filed(alpha_client, people, boiler):
    today = tenant_today()
    schedule = weekly(boiler, recurrence="days", starts_on=today - timedelta(days=2))
    filed = preventive_requests_generate().created
    alpha_client.force_login(people["manager"])
    html = alpha_client.get(f"/schedules/{schedule.pk}/").content.decode()
    for occurrence in filed:
        assert occurrence.request.reference in html
        assert f'href="/requests/{occurrence.request.pk}/"' in html
    assert (today + timedelta(days=1)).strftime("%a %-d %b %Y") in html  # next upcoming date


def test_the_detail_query_count_does_not_grow_with_the_rows(alpha_client, people, boiler):
    today = tenant_today()
    few = weekly(
        boiler, recurrence="days", starts_on=today - timedelta(days=2), steps=["a", "b", "c"]
    )
    many = weekly(
        boiler,
        recurrence="days",
        starts_on=today - timedelta(days=29),
        steps=[f"step {n}" for n in range(30)],
    )
    preventive_requests_generate()
    alpha_client.force_login(people["manager"])
    assert query_count(alpha_client, f"/schedules/{few.pk}/") == query_count(
        alpha_client, f"/schedules/{many.pk}/"
    )


def test_an_unknown_schedule_is_a_404(alpha_client, people):
    alpha_client.force_login(people["manager"])
    assert alpha_client.get("/schedules/999999/").status_code == 404
    assert alpha_client.post("/schedules/999999/pause/").status_code == 404
