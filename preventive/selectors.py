"""Reads for preventive maintenance: schedules, their next dates, occurrences."""

import zoneinfo
from datetime import date, timedelta

from django.utils import timezone

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
