"""
Preventive maintenance: recurrence date maths, generation of due requests
(run twice, catch-up, time zone, concurrent runs: never a duplicate), the
plan's feature gate and request limit, checklist completion, and the
generate_preventive_requests command.
"""

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.roles import BuiltinRole
from accounts.services import user_create
from assets.services import asset_create, asset_retire
from billing.limits import FeatureNotInPlan
from preventive.models import (
    ChecklistItem,
    MaintenanceSchedule,
    Recurrence,
    ScheduledOccurrence,
    Weekday,
)
from preventive.recurrence import occurrences_due
from preventive.selectors import schedule_next_due
from preventive.services import (
    checklist_item_complete,
    preventive_requests_generate,
    schedule_create,
    schedule_update,
)
from requests_app.models import MaintenanceRequest
from tenants.models import Tenant
from tenants.services import tenant_update


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def dates(recurrence, starts_on, until, *, interval=1, after=None, **fields):
    schedule = MaintenanceSchedule(
        recurrence=recurrence, starts_on=starts_on, interval=interval, **fields
    )
    return list(occurrences_due(schedule, until, after=after))


# --- Date maths (no database) ------------------------------------------------------


def test_every_n_days():
    assert dates(Recurrence.DAYS, date(2026, 1, 1), date(2026, 1, 10), interval=3) == [
        date(2026, 1, 1),
        date(2026, 1, 4),
        date(2026, 1, 7),
        date(2026, 1, 10),
    ]


def test_every_n_weeks():
    assert dates(Recurrence.WEEKS, date(2026, 1, 1), date(2026, 2, 11), interval=2) == [
        date(2026, 1, 1),
        date(2026, 1, 15),
        date(2026, 1, 29),
    ]


def test_every_month_clamps_the_31st_to_month_end_and_comes_back():
    assert dates(Recurrence.MONTHS, date(2026, 1, 31), date(2026, 5, 31)) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]


def test_every_three_months_across_a_leap_february():
    assert dates(Recurrence.MONTHS, date(2027, 11, 30), date(2028, 6, 1), interval=3) == [
        date(2027, 11, 30),
        date(2028, 2, 29),
        date(2028, 5, 30),
    ]


def test_on_a_weekday_starts_at_the_first_such_day():
    # 1 January 2026 is a Thursday.
    assert dates(
        Recurrence.WEEKDAY, date(2026, 1, 1), date(2026, 1, 20), weekday=Weekday.MONDAY
    ) == [date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19)]
    assert dates(
        Recurrence.WEEKDAY,
        date(2026, 1, 1),
        date(2026, 1, 29),
        weekday=Weekday.THURSDAY,
        interval=2,
    ) == [date(2026, 1, 1), date(2026, 1, 15), date(2026, 1, 29)]


def test_on_a_day_of_the_month():
    assert dates(Recurrence.DAY_OF_MONTH, date(2026, 2, 10), date(2026, 5, 1), day_of_month=31) == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]
    # The 15th every two months, from a start after the 15th: February first.
    assert dates(
        Recurrence.DAY_OF_MONTH, date(2026, 1, 20), date(2026, 6, 1), day_of_month=15, interval=2
    ) == [date(2026, 2, 15), date(2026, 4, 15)]


@pytest.mark.parametrize(
    ("recurrence", "fields"),
    [
        (Recurrence.DAYS, {"interval": 5}),
        (Recurrence.WEEKS, {"interval": 3}),
        (Recurrence.MONTHS, {"interval": 2}),
        (Recurrence.WEEKDAY, {"interval": 2, "weekday": Weekday.FRIDAY}),
        (Recurrence.DAY_OF_MONTH, {"interval": 1, "day_of_month": 30}),
    ],
)
def test_after_skips_exactly_the_dates_up_to_it(recurrence, fields):
    """The jump ahead for old schedules gives the same dates as walking from the start."""
    start, until, after = date(2019, 1, 31), date(2026, 6, 30), date(2026, 2, 27)
    walked = dates(recurrence, start, until, **fields)
    assert dates(recurrence, start, until, after=after, **fields) == [
        due for due in walked if due > after
    ]


def test_nothing_due_before_the_start():
    assert dates(Recurrence.DAYS, date(2026, 3, 1), date(2026, 2, 28)) == []


# --- Fixtures ------------------------------------------------------------------------


@pytest.fixture
def pm(make_tenant):
    """A premium tenant (preventive maintenance is in the plan), connection in its schema."""
    tenant = make_tenant("prevent", plan="premium", status=Tenant.Status.ACTIVE)
    with tenant_context(tenant):
        yield tenant


@pytest.fixture
def boiler(pm):
    return asset_create(name="Boiler", asset_tag="B-001")


def weekly(asset, **fields):
    values = {
        "asset": asset,
        "title": "Boiler check",
        "description": "Routine check.",
        "recurrence": Recurrence.WEEKS,
        "starts_on": date(2026, 3, 1),
        "request_type": "hvac",
        "priority": "high",
        "steps": ["Check pressure", "Bleed radiators"],
    }
    values.update(fields)
    return schedule_create(**values)


# --- Schedules -----------------------------------------------------------------------


def test_schedule_create_validates_the_recurrence(boiler):
    with pytest.raises(ValidationError) as refused:
        schedule_create(
            asset=boiler, title="Filters", recurrence=Recurrence.WEEKDAY, starts_on=date.today()
        )
    assert "weekday" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        schedule_create(
            asset=boiler,
            title="Filters",
            recurrence=Recurrence.DAYS,
            starts_on=date.today(),
            interval=0,
            day_of_month=3,
        )
    assert {"interval", "day_of_month"} <= set(refused.value.message_dict)
    with pytest.raises(TypeError):
        schedule_create(
            asset=boiler,
            title="x",
            recurrence=Recurrence.DAYS,
            starts_on=date.today(),
            last_generated_on=date.today(),
        )
    assert not MaintenanceSchedule.objects.exists()


def test_schedule_steps_are_kept_in_order_and_replaced_on_update(boiler):
    schedule = weekly(boiler, steps=["one", " ", "two"])
    assert list(schedule.steps.values_list("order", "text")) == [(1, "one"), (2, "two")]
    schedule = schedule_update(schedule=schedule, data={"priority": "low"}, steps=["three"])
    assert schedule.priority == "low"
    assert list(schedule.steps.values_list("text", flat=True)) == ["three"]


def test_a_retired_asset_takes_no_schedule(boiler):
    asset_retire(asset=boiler, user=None)
    boiler.refresh_from_db()
    with pytest.raises(ValidationError, match="retired"):
        weekly(boiler)


# --- Generation ----------------------------------------------------------------------


def test_generation_run_twice_creates_no_duplicates(boiler):
    schedule = weekly(boiler)

    first = preventive_requests_generate(now=noon(date(2026, 3, 15)))
    second = preventive_requests_generate(now=noon(date(2026, 3, 15)))

    assert [occurrence.due_on for occurrence in first.created] == [
        date(2026, 3, 1),
        date(2026, 3, 8),
        date(2026, 3, 15),
    ]
    assert second.created == [] and second.stopped == []
    assert ScheduledOccurrence.objects.count() == 3
    assert MaintenanceRequest.objects.count() == 3
    request = first.created[0].request
    assert request.title == "Boiler check (2026-03-01)"
    assert (request.type, request.priority, request.asset, request.status) == (
        "hvac",
        "high",
        boiler,
        "new",
    )
    assert "1. Check pressure\n2. Bleed radiators" in request.description
    assert list(first.created[0].checklist.values_list("order", "text", "completed_at")) == [
        (1, "Check pressure", None),
        (2, "Bleed radiators", None),
    ]
    schedule.refresh_from_db()
    assert schedule.last_generated_on == date(2026, 3, 15)
    assert schedule_next_due(schedule) == date(2026, 3, 22)


def test_missed_occurrences_are_caught_up(boiler):
    weekly(boiler)
    preventive_requests_generate(now=noon(date(2026, 3, 2)))
    # No run for three weeks.
    report = preventive_requests_generate(now=noon(date(2026, 3, 23)))
    assert [occurrence.due_on for occurrence in report.created] == [
        date(2026, 3, 8),
        date(2026, 3, 15),
        date(2026, 3, 22),
    ]
    assert list(
        ScheduledOccurrence.objects.order_by("due_on").values_list("due_on", flat=True)
    ) == [date(2026, 3, 1), date(2026, 3, 8), date(2026, 3, 15), date(2026, 3, 22)]


def test_an_occurrence_made_outside_the_bookkeeping_is_not_made_again(boiler):
    """Idempotence rests on the occurrence rows, not on last_generated_on."""
    schedule = weekly(boiler)
    preventive_requests_generate(now=noon(date(2026, 3, 8)))
    MaintenanceSchedule.objects.filter(pk=schedule.pk).update(last_generated_on=None)
    assert preventive_requests_generate(now=noon(date(2026, 3, 8))).created == []
    assert ScheduledOccurrence.objects.count() == 2


def test_today_is_the_tenants_today(pm, boiler):
    weekly(boiler)
    tenant_update(tenant=pm, actor="test", timezone="Pacific/Auckland")
    # 12:00 UTC on 14 March is already 15 March in Auckland (UTC+13).
    report = preventive_requests_generate(now=noon(date(2026, 3, 14)))
    assert report.created[-1].due_on == date(2026, 3, 15)


def test_inactive_schedules_and_retired_assets_are_left_alone(boiler):
    weekly(boiler, active=False)
    pump = asset_create(name="Pump", asset_tag="P-001")
    weekly(pump)
    asset_retire(asset=pump, user=None)
    assert preventive_requests_generate(now=noon(date(2026, 3, 15))).created == []
    assert not MaintenanceRequest.objects.exists()


def test_the_feature_gate(alpha):
    asset = asset_create(name="Boiler", asset_tag="B-001")
    with pytest.raises(FeatureNotInPlan):
        weekly(asset)
    with pytest.raises(FeatureNotInPlan):
        preventive_requests_generate()

    tenant_update(tenant=alpha, actor="test", feature_overrides={"preventive_maintenance": True})
    weekly(asset)
    assert len(preventive_requests_generate(now=noon(date(2026, 3, 1))).created) == 1


def test_the_request_limit_stops_a_schedule_without_crashing_the_run(pm, boiler):
    tenant_update(tenant=pm, actor="test", max_requests_per_month=3)
    weekly(boiler)
    daily = weekly(boiler, title="Daily look", recurrence=Recurrence.DAYS)

    report = preventive_requests_generate(now=noon(date(2026, 3, 15)))

    assert len(report.created) == 3
    assert [schedule for schedule, _message in report.stopped] == [daily]
    assert "allows 3 requests this month" in report.stopped[0][1]
    # What was refused is filed on a later run, once there is room.
    tenant_update(tenant=pm, actor="test", max_requests_per_month=None)
    report = preventive_requests_generate(now=noon(date(2026, 3, 15)))
    assert len(report.created) == 15
    assert ScheduledOccurrence.objects.count() == MaintenanceRequest.objects.count() == 18


# --- Checklists ----------------------------------------------------------------------


def test_completing_a_checklist_item_records_who_and_when(boiler):
    weekly(boiler)
    preventive_requests_generate(now=noon(date(2026, 3, 1)))
    item = ChecklistItem.objects.get(order=1)
    # Leads, so that both may see the generated request, and tick its checklist.
    managers = [Group.objects.get(name=BuiltinRole.MANAGER)]
    tech = user_create(email="tech@prevent.example", password=None, roles=managers)
    other = user_create(email="other@prevent.example", password=None, roles=managers)
    at = noon(date(2026, 3, 2))

    done = checklist_item_complete(item=item, user=tech, now=at)
    again = checklist_item_complete(item=item, user=other)

    assert (done.completed_by, done.completed_at) == (tech, at)
    assert (again.completed_by, again.completed_at) == (tech, at)
    item.refresh_from_db()
    assert (item.completed_by, item.completed_at, item.is_completed) == (tech, at, True)
    assert not ChecklistItem.objects.get(order=2).is_completed


def test_an_inactive_user_cannot_complete_an_item(boiler):
    weekly(boiler)
    preventive_requests_generate(now=noon(date(2026, 3, 1)))
    item = ChecklistItem.objects.get(order=1)
    gone = user_create(email="gone@prevent.example", password=None, is_active=False)
    with pytest.raises(ValidationError):
        checklist_item_complete(item=item, user=gone)
    item.refresh_from_db()
    assert item.completed_at is None


# --- Command -------------------------------------------------------------------------


def test_command_reports_what_it_created_and_which_tenants_it_skipped(boiler):
    weekly(boiler)
    out = io.StringIO()
    with time_machine.travel(noon(date(2026, 3, 8)), tick=False):
        call_command("generate_preventive_requests", stdout=out)
        call_command("generate_preventive_requests", "prevent", stdout=out)
    lines = out.getvalue().splitlines()
    assert "prevent: REQ-000001 'Boiler check' due 2026-03-01" in lines
    assert "prevent: REQ-000002 'Boiler check' due 2026-03-08" in lines
    assert any(line.startswith("alpha: skipped.") and "Free" in line for line in lines)
    assert lines.count("2 preventive request(s) created.") == 1
    assert lines[-1] == "0 preventive request(s) created."
    assert ScheduledOccurrence.objects.count() == 2


def test_command_reports_a_stopped_schedule(pm, boiler):
    tenant_update(tenant=pm, actor="test", max_requests_per_month=0)
    weekly(boiler)
    out, err = io.StringIO(), io.StringIO()
    with time_machine.travel(noon(date(2026, 3, 1)), tick=False):
        call_command("generate_preventive_requests", "prevent", stdout=out, stderr=err)
    assert "prevent: schedule 'Boiler check'" in err.getvalue()
    assert "stopped: Your Premium plan allows 0 requests this month" in err.getvalue()
    assert "0 preventive request(s) created." in out.getvalue()


def test_command_skips_suspended_and_read_only_tenants(pm, boiler):
    weekly(boiler)
    tenant_update(tenant=pm, actor="test", status=Tenant.Status.SUSPENDED)
    out = io.StringIO()
    with time_machine.travel(noon(date(2026, 3, 1)), tick=False):
        call_command("generate_preventive_requests", "prevent", stdout=out)
        tenant_update(tenant=pm, actor="test", status=Tenant.Status.CANCELLED)
        call_command("generate_preventive_requests", "prevent", stdout=out)
    assert "prevent: skipped, the organisation is suspended." in out.getvalue()
    assert "prevent: skipped, the organisation is read only." in out.getvalue()
    assert not ScheduledOccurrence.objects.exists()


def test_command_refuses_an_unknown_subdomain(pm):
    with pytest.raises(CommandError, match="No tenant with subdomain 'nope'"):
        call_command("generate_preventive_requests", "nope")


# --- Concurrency ---------------------------------------------------------------------

PARALLEL = 6


def test_concurrent_runs_never_duplicate(committed_tenant, in_own_connection):
    tenant = committed_tenant("pm-race", plan="premium")

    def setup():
        with tenant_context(tenant):
            asset = asset_create(name="Boiler", asset_tag="B-001")
            schedule_create(
                asset=asset, title="Daily", recurrence=Recurrence.DAYS, starts_on=date(2026, 3, 1)
            )

    in_own_connection(setup)
    start = threading.Barrier(PARALLEL)

    def run(_n):
        try:
            with tenant_context(tenant):
                start.wait()
                report = preventive_requests_generate(now=noon(date(2026, 3, 10)))
                return [occurrence.due_on for occurrence in report.created]
        finally:
            connection.close()

    with ThreadPoolExecutor(PARALLEL) as pool:
        created = [due for run_dates in pool.map(run, range(PARALLEL)) for due in run_dates]

    def stored():
        with tenant_context(tenant):
            return (
                sorted(ScheduledOccurrence.objects.values_list("due_on", flat=True)),
                MaintenanceRequest.objects.count(),
            )

    expected = [date(2026, 3, day) for day in range(1, 11)]
    assert sorted(created) == expected
    assert in_own_connection(stored) == (expected, 10)
