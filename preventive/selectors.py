"""Reads for preventive maintenance: schedules, their next dates, occurrences."""

import zoneinfo
from datetime import date, timedelta
from itertools import islice

from django.db.models import Count
from django.utils import timezone

from billing.limits import has_feature
from billing.plans import Feature
from preventive.models import ChecklistItem, MaintenanceSchedule, ScheduledOccurrence
from preventive.recurrence import occurrences_due
from tenants.selectors import current_tenant


def tenant_today(tenant=None, now=None) -> date:
    """Today's date in the tenant's time zone: what "due today" means to its staff."""
    tenant = tenant or current_tenant()
    return (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(tenant.timezone)).date()


def schedule_list(*, asset=None, include_inactive: bool = False):
    schedules = MaintenanceSchedule.objects.select_related("asset")
    if asset is not None:
        schedules = schedules.filter(asset=asset)
    if not include_inactive:
        schedules = schedules.filter(active=True)
    return schedules


def schedule_next_due(schedule: MaintenanceSchedule, today: date | None = None) -> date | None:
    """The next date not yet generated, looking up to a year ahead (None if none)."""
    today = today or tenant_today()
    after = schedule.last_generated_on
    horizon = max(today, after or today) + timedelta(days=366)
    return next(occurrences_due(schedule, horizon, after=after), None)


def occurrence_list(*, schedule: MaintenanceSchedule):
    return schedule.occurrences.select_related("request").prefetch_related("checklist")


def occurrence_checklist(occurrence: ScheduledOccurrence):
    return occurrence.checklist.select_related("completed_by").order_by("order")


def checklist_item_get(*, pk, schedule: MaintenanceSchedule | None = None) -> ChecklistItem:
    """
    A checklist item (of one of ``schedule``'s occurrences, when given), with
    its request; DoesNotExist. Who may tick it is the service's call.
    """
    items = ChecklistItem.objects.select_related("occurrence__request")
    if schedule is not None:
        items = items.filter(occurrence__schedule=schedule)
    return items.get(pk=pk)


def occurrence_for_request(request) -> ScheduledOccurrence | None:
    """The occurrence that generated ``request``, with its schedule; None for other requests."""
    return ScheduledOccurrence.objects.select_related("schedule").filter(request=request).first()


def preventive_in_plan(tenant=None) -> bool:
    """Whether the tenant's plan has preventive maintenance (schedules need it)."""
    return has_feature(tenant or current_tenant(), Feature.PREVENTIVE_MAINTENANCE)


def schedule_list_for_pages(*, active: bool | None = None, asset=None):
    """
    Schedules for the staff list: every one (or the active or paused ones),
    with the asset and the number of checklist steps, by asset then title.
    One query.
    """
    schedules = MaintenanceSchedule.objects.select_related("asset").annotate(
        step_count=Count("steps")
    )
    if active is not None:
        schedules = schedules.filter(active=active)
    if asset is not None:
        schedules = schedules.filter(asset=asset)
    return schedules.order_by("asset__name", "title", "pk")


def schedule_get(*, pk) -> MaintenanceSchedule:
    """One schedule with its asset and checklist steps; DoesNotExist otherwise."""
    return MaintenanceSchedule.objects.select_related("asset").prefetch_related("steps").get(pk=pk)


def schedule_upcoming(
    schedule: MaintenanceSchedule, count: int = 5, today: date | None = None
) -> list[date]:
    """
    The next ``count`` dates the schedule will file a request for, from
    today on (in the tenant's time zone), after the last one generated.
    Pure arithmetic: no query.
    """
    today = today or tenant_today()
    after = max(schedule.last_generated_on or date.min, today - timedelta(days=1))
    horizon = today + timedelta(days=366 * 5)
    return list(islice(occurrences_due(schedule, horizon, after=after), count))


def occurrence_recent(*, schedule: MaintenanceSchedule, limit: int = 20):
    """The latest occurrences generated, newest first, with their request: one query."""
    return list(schedule.occurrences.select_related("request").order_by("-due_on", "-pk")[:limit])
