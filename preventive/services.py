"""
Writes for preventive maintenance: schedules, the generation of their
requests (through ``requests_app.services.request_create``, so numbering,
plan limits and the audit trail apply), and checklist completion.

Design notes: docs/assets.md, "Preventive maintenance".
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assets.models import AssetStatus
from billing import limits
from billing.plans import Feature
from preventive.models import ChecklistItem, ChecklistStep, MaintenanceSchedule, ScheduledOccurrence
from preventive.recurrence import occurrences_due
from preventive.selectors import tenant_today
from requests_app.selectors import request_is_visible_to
from requests_app.services import request_create
from tenants.selectors import current_tenant

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


@transaction.atomic
def schedule_pause(*, schedule: MaintenanceSchedule) -> MaintenanceSchedule:
    """Stop filing requests for ``schedule`` until it is resumed. Idempotent."""
    return schedule_update(schedule=schedule, data={"active": False})


@transaction.atomic
def schedule_resume(*, schedule: MaintenanceSchedule, now=None) -> MaintenanceSchedule:
    """
    File requests for ``schedule`` again, from today (in the tenant's time
    zone) on: the dates it was paused through are skipped, not caught up,
    since nobody wants a burst of overdue work for the weeks it was off.
    Idempotent: resuming an active schedule changes nothing.
    """
    limits.require_feature(current_tenant(), Feature.PREVENTIVE_MAINTENANCE)
    stored = MaintenanceSchedule.objects.select_for_update().get(pk=schedule.pk)
    if stored.active:
        return stored
    yesterday = tenant_today(now=now) - timedelta(days=1)
    stored.active = True
    if stored.last_generated_on is None or stored.last_generated_on < yesterday:
        # Generation resumes after this date (see preventive_requests_generate).
        stored.last_generated_on = yesterday
    stored.save(update_fields=["active", "last_generated_on", "updated"])
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


def generation_paused(tenant) -> str | None:
    """
    Why no preventive requests are filed in ``tenant`` now ("suspended",
    "read only"), or None. Nobody there can act on a request; the missed dates
    are caught up by the first run after the organisation is back.
    """
    if tenant.is_suspended:
        return "suspended"
    if tenant.is_read_only:
        return "read only"
    return None


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

    Whoever may see the generated request may tick its checklist; for anyone
    else the item is as if it did not exist (``ChecklistItem.DoesNotExist``).
    """
    if user is None or not user.is_active:
        raise ValidationError(_("Only an active user can complete a checklist item."))
    if not request_is_visible_to(item.occurrence.request, user):
        raise ChecklistItem.DoesNotExist("No such checklist item.")
    stored = ChecklistItem.objects.select_for_update().get(pk=item.pk)
    if stored.completed_at is None:
        stored.completed_by = user
        stored.completed_at = now or timezone.now()
        stored.save(update_fields=["completed_by", "completed_at"])
    return stored
