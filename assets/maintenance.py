"""
Preventive maintenance: schedules per asset, the dates they fall due, the
generation of their requests, and checklist completion. Services (writes)
and selectors (reads) together, kept apart from ``assets.services``.

Design notes, including how month-end dates are handled: docs/assets.md.
"""

import calendar
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assets.models import (
    AssetStatus,
    ChecklistItem,
    ChecklistStep,
    MaintenanceSchedule,
    Recurrence,
    ScheduledOccurrence,
)
from billing import limits
from billing.plans import Feature
from requests_app.services import request_create
from tenants.selectors import current_tenant

# --- Date maths ----------------------------------------------------------------


def add_months(start: date, months: int, day: int) -> date:
    """
    ``day`` of the month ``months`` after ``start``'s month, clamped to that
    month's last day: day 31 is 30 April and 28 (or 29) February.

    The day is always the schedule's anchor, never the previous occurrence's
    day, so a schedule on the 31st comes back to the 31st after February.
    """
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def first_occurrence(schedule: MaintenanceSchedule) -> date:
    """The schedule's first due date: ``starts_on`` or the first matching day after it."""
    start = schedule.starts_on
    if schedule.recurrence == Recurrence.WEEKDAY:
        return start + timedelta(days=(schedule.weekday - start.weekday()) % 7)
    if schedule.recurrence == Recurrence.DAY_OF_MONTH:
        this_month = add_months(start, 0, schedule.day_of_month)
        return this_month if this_month >= start else add_months(start, 1, schedule.day_of_month)
    return start


def occurrences_due(
    schedule: MaintenanceSchedule, until: date, after: date | None = None
) -> Iterator[date]:
    """
    The schedule's due dates up to ``until`` (inclusive), in order, only
    those later than ``after`` when it is given.

    - days, weeks: ``starts_on``, then every N days or 7N days;
    - weekday: the first such weekday on or after ``starts_on``, then every N weeks;
    - months: ``starts_on``'s day of the month, every N months;
    - day of month: the first such day on or after ``starts_on``, every N months.

    Month steps clamp the day to the month's end (31 → 30 April → 28 or 29
    February) and are counted from the first date, so they never drift.
    """
    first = first_occurrence(schedule)
    low = first if after is None else max(first, after + timedelta(days=1))
    if low > until:
        return
    step = schedule.interval
    if schedule.recurrence in (Recurrence.MONTHS, Recurrence.DAY_OF_MONTH):
        anchor = first.day if schedule.recurrence == Recurrence.MONTHS else schedule.day_of_month
        # Jump close to ``low`` rather than walking from the first date: a
        # schedule may be years old. One step short, to be safe with clamping.
        months_to_low = (low.year - first.year) * 12 + low.month - first.month
        k = max(months_to_low // step - 1, 0)
        while (due := add_months(first, k * step, anchor)) <= until:
            if due >= low:
                yield due
            k += 1
    else:
        days = step * (1 if schedule.recurrence == Recurrence.DAYS else 7)
        k = -(-(low - first).days // days)  # ceiling division
        while (due := first + timedelta(days=k * days)) <= until:
            yield due
            k += 1


def tenant_today(tenant=None, now=None) -> date:
    """Today's date in the tenant's time zone: what "due today" means to its staff."""
    tenant = tenant or current_tenant()
    return (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(tenant.timezone)).date()


# --- Schedules -------------------------------------------------------------------

SCHEDULE_FIELDS = (
    "title",
    "description",
    "request_type",
    "priority",
    "recurrence",
    "interval",
    "weekday",
    "day_of_month",
    "starts_on",
    "active",
)


def _steps_set(schedule: MaintenanceSchedule, steps: Iterable[str]) -> None:
    texts = [text.strip() for text in steps if text and text.strip()]
    schedule.steps.all().delete()
    rows = [
        ChecklistStep(schedule=schedule, order=order, text=text)
        for order, text in enumerate(texts, start=1)
    ]
    for row in rows:
        row.full_clean(exclude=["schedule"], validate_constraints=False)
    ChecklistStep.objects.bulk_create(rows)


@transaction.atomic
def schedule_create(*, asset, title: str, recurrence: str, starts_on: date, steps=(), **fields):
    """
    Create a schedule for ``asset`` with its checklist ``steps`` (texts, in
    order). Needs the preventive maintenance feature. A ``starts_on`` in the
    past means the missed dates are generated on the next run (catch-up).
    """
    limits.require_feature(current_tenant(), Feature.PREVENTIVE_MAINTENANCE)
    unknown = set(fields) - set(SCHEDULE_FIELDS)
    if unknown:
        raise TypeError(f"schedule_create() got unexpected fields: {sorted(unknown)}")
    if asset.status == AssetStatus.RETIRED:
        raise ValidationError(
            {"asset": _("A retired asset cannot be given a schedule.")}, code="asset_retired"
        )
    schedule = MaintenanceSchedule(
        asset=asset, title=title, recurrence=recurrence, starts_on=starts_on, **fields
    )
    schedule.full_clean()
    schedule.save()
    _steps_set(schedule, steps)
    return schedule


@transaction.atomic
def schedule_update(*, schedule: MaintenanceSchedule, data: dict, steps=None):
    """
    Change a schedule's fields (``SCHEDULE_FIELDS``) and, when ``steps`` is
    given, replace its checklist. Requests already generated keep their
    checklist; a changed recurrence applies to dates after the last one
    generated.
    """
    limits.require_feature(current_tenant(), Feature.PREVENTIVE_MAINTENANCE)
    unknown = set(data) - set(SCHEDULE_FIELDS)
    if unknown:
        raise TypeError(f"schedule_update() got unexpected fields: {sorted(unknown)}")
    # Locked: generation holds the same lock while it files a request.
    stored = MaintenanceSchedule.objects.select_for_update().get(pk=schedule.pk)
    for name, value in data.items():
        setattr(stored, name, value)
    stored.full_clean()
    stored.save()
    if steps is not None:
        _steps_set(stored, steps)
    return stored


# --- Generation ------------------------------------------------------------------


@dataclass
class GenerationReport:
    """What one run did in one tenant: occurrences created, schedules stopped and why."""

    created: list[ScheduledOccurrence] = field(default_factory=list)
    stopped: list[tuple[MaintenanceSchedule, str]] = field(default_factory=list)


def _request_description(schedule: MaintenanceSchedule, due_on: date, steps: list[str]) -> str:
    # The checklist is in the description too, so it shows wherever the
    # request does; the recorded checklist is the occurrence's items.
    parts = [schedule.description.strip()] if schedule.description.strip() else []
    parts.append(_("Preventive maintenance due on %(date)s.") % {"date": due_on.isoformat()})
    if steps:
        parts.append(
            _("Checklist:") + "\n" + "\n".join(f"{n}. {text}" for n, text in enumerate(steps, 1))
        )
    return "\n\n".join(parts)


def _occurrence_generate(schedule_pk: int, due_on: date) -> ScheduledOccurrence | None:
    """
    File the request for one due date, unless it already exists. Returns the
    new occurrence, or None when another run got there first.

    Concurrent runs are serialised on the schedule's row lock, and the check
    is made under that lock, so the second run sees the first one's committed
    occurrence; the unique (schedule, due_on) constraint backs this up for
    any writer that does not take the lock.
    """
    with transaction.atomic():
        schedule = (
            MaintenanceSchedule.objects.select_for_update()
            .select_related("asset")
            .get(pk=schedule_pk)
        )
        if not schedule.active:
            return None
        if ScheduledOccurrence.objects.filter(schedule=schedule, due_on=due_on).exists():
            return None
        steps = list(schedule.steps.values_list("text", flat=True))
        request = request_create(
            title=f"{schedule.title} ({due_on.isoformat()})",
            description=_request_description(schedule, due_on, steps),
            type=schedule.request_type,
            priority=schedule.priority,
            asset=schedule.asset,
        )
        occurrence = ScheduledOccurrence.objects.create(
            schedule=schedule, due_on=due_on, request=request
        )
        ChecklistItem.objects.bulk_create(
            ChecklistItem(occurrence=occurrence, order=order, text=text)
            for order, text in enumerate(steps, start=1)
        )
        if schedule.last_generated_on is None or due_on > schedule.last_generated_on:
            schedule.last_generated_on = due_on
            schedule.save(update_fields=["last_generated_on"])
        return occurrence


def preventive_requests_generate(now=None) -> GenerationReport:
    """
    For every active schedule of the current tenant whose asset is not
    retired, file one request for each due date up to today (in the tenant's
    time zone) that has none yet, missed dates included. Idempotent: a second
    run, or one running at the same time, creates nothing twice.

    Raises FeatureNotInPlan when the tenant's plan lacks preventive
    maintenance. A refusal while filing (PlanLimitReached when the monthly
    request limit is reached, or any other ValidationError) stops that
    schedule for this run, leaving its remaining dates for the next one, and
    is reported rather than raised, so the other schedules still run.
    """
    tenant = current_tenant()
    limits.require_feature(tenant, Feature.PREVENTIVE_MAINTENANCE)
    today = tenant_today(tenant, now)
    report = GenerationReport()
    schedules = (
        MaintenanceSchedule.objects.filter(active=True, starts_on__lte=today)
        .exclude(asset__status=AssetStatus.RETIRED)
        .order_by("pk")
    )
    for schedule in schedules:
        try:
            for due_on in occurrences_due(schedule, today, after=schedule.last_generated_on):
                occurrence = _occurrence_generate(schedule.pk, due_on)
                if occurrence is not None:
                    report.created.append(occurrence)
        except ValidationError as error:
            report.stopped.append((schedule, " ".join(error.messages)))
    return report


# --- Checklists ------------------------------------------------------------------


@transaction.atomic
def checklist_item_complete(*, item: ChecklistItem, user, now=None) -> ChecklistItem:
    """
    Record that ``user`` completed a checklist item, and when. Idempotent: an
    item already completed keeps its first completion (who did the work does
    not change because someone ticks it again).
    """
    if user is None or not user.is_active:
        raise ValidationError(_("Only an active user can complete a checklist item."))
    stored = ChecklistItem.objects.select_for_update().get(pk=item.pk)
    if stored.completed_at is None:
        stored.completed_by = user
        stored.completed_at = now or timezone.now()
        stored.save(update_fields=["completed_by", "completed_at"])
    return stored


# --- Selectors -------------------------------------------------------------------


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
