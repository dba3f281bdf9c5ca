"""
Writes for maintenance requests. Every change to a request goes through
here, so the workflow rules, the plan limit, numbering, the transition log
and the audit trail hold for the web UI, the API, admin and commands alike.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assets.models import AssetStatus
from billing import limits
from requests_app import events, notifications, selectors
from requests_app.batches import each_locked
from requests_app.dashboard import rollup
from requests_app.models import (
    DETAIL_MODELS,
    MaintenanceRequest,
    RequestChange,
    RequestComment,
    RequestCounter,
    RequestSettings,
    RequestTransition,
    RequestType,
    Status,
)
from tenants.selectors import current_tenant

# --- Workflow ------------------------------------------------------------------
# Who may make a transition, as "actors": a lead (anyone with the
# ``manage_all_requests`` permission: admins, managers, custom roles given it)
# plus the user's relation to the request. ``system`` is the automatic closing.
LEAD, ASSIGNEE, REQUESTER, SYSTEM = "lead", "assignee", "requester", "system"
LEADS = frozenset({LEAD})

# (from, to) -> actors allowed. Anything not listed is not part of the workflow.
# "requester" is the request's own requester, "assignee" its own assignee.
# Reopened behaves like triaged with an assignee already chosen: a lead may
# (re)assign it, or its assignee may start on it again directly.
TRANSITIONS = {
    (Status.NEW, Status.TRIAGED): LEADS,
    (Status.NEW, Status.CANCELLED): LEADS | {REQUESTER},
    (Status.TRIAGED, Status.ASSIGNED): LEADS,
    (Status.TRIAGED, Status.CANCELLED): LEADS,
    (Status.ASSIGNED, Status.ASSIGNED): LEADS,  # reassign
    (Status.ASSIGNED, Status.IN_PROGRESS): {ASSIGNEE},
    (Status.ASSIGNED, Status.CANCELLED): LEADS,
    (Status.IN_PROGRESS, Status.ON_HOLD): {ASSIGNEE},
    (Status.IN_PROGRESS, Status.RESOLVED): {ASSIGNEE},
    (Status.IN_PROGRESS, Status.ASSIGNED): LEADS,
    (Status.IN_PROGRESS, Status.CANCELLED): LEADS,
    (Status.ON_HOLD, Status.IN_PROGRESS): {ASSIGNEE},
    (Status.ON_HOLD, Status.ASSIGNED): LEADS,
    (Status.ON_HOLD, Status.CANCELLED): LEADS,
    (Status.RESOLVED, Status.CLOSED): LEADS | {REQUESTER, SYSTEM},
    (Status.RESOLVED, Status.REOPENED): LEADS | {REQUESTER},
    (Status.CLOSED, Status.REOPENED): LEADS,
    (Status.REOPENED, Status.ASSIGNED): LEADS,
    (Status.REOPENED, Status.IN_PROGRESS): {ASSIGNEE},
    (Status.REOPENED, Status.CANCELLED): LEADS,
}

# The stamp set when a request enters a status.
STAMPS = {
    Status.TRIAGED: "triaged_at",
    Status.ASSIGNED: "assigned_at",
    Status.IN_PROGRESS: "started_at",
    Status.ON_HOLD: "on_hold_at",
    Status.RESOLVED: "resolved_at",
    Status.CLOSED: "closed_at",
    Status.CANCELLED: "cancelled_at",
    Status.REOPENED: "reopened_at",
}

# Fields only the workflow sets; request_create and request_update refuse them.
WORKFLOW_FIELDS = frozenset({"number", "status", "assignee", "due_at", "created", *STAMPS.values()})
UPDATABLE_FIELDS = ("title", "description", "priority", "asset", "location")


class TransitionRefused(ValidationError):
    """A transition that may not be made; ``code`` says why."""

    def __init__(self, message, code, params=None):
        super().__init__(message, code=code, params=params)


def _refuse_not_in_workflow(request, to_status):
    raise TransitionRefused(
        _("A request cannot go from “%(from)s” to “%(to)s”."),
        code="transition_not_allowed",
        params={"from": Status(request.status).label, "to": Status(to_status).label},
    )


def request_actors(request: MaintenanceRequest, user) -> frozenset[str]:
    """The actors ``user`` counts as for ``request`` (``None`` is the system)."""
    if user is None:
        return frozenset({SYSTEM})
    if not user.is_active:
        return frozenset()
    actors = set()
    if selectors.user_is_lead(user):
        actors.add(LEAD)
    if request.assignee_id is not None and request.assignee_id == user.pk:
        actors.add(ASSIGNEE)
    if request.requester_id is not None and request.requester_id == user.pk:
        actors.add(REQUESTER)
    return frozenset(actors)


def request_allowed_transitions(request: MaintenanceRequest, user) -> list[str]:
    """The statuses ``user`` may move ``request`` to now, in workflow order."""
    actors = request_actors(request, user)
    return [
        to_status
        for (from_status, to_status), allowed in TRANSITIONS.items()
        if from_status == request.status and actors & allowed
    ]


def _validate_assignee(assignee):
    if assignee is None:
        raise TransitionRefused(
            _("Choose whom to assign the request to."), code="assignee_required"
        )
    if not assignee.is_active or not selectors.user_is_technician(assignee):
        raise TransitionRefused(
            _("%(user)s is not an active technician."),
            code="invalid_assignee",
            params={"user": str(assignee)},
        )


def _audit(request, by, at, before: dict, after: dict):
    """One RequestChange per field whose value differs between ``before`` and ``after``."""

    def text(value):
        return "" if value is None else str(value)

    RequestChange.objects.bulk_create(
        RequestChange(
            request=request,
            by=by,
            at=at,
            field=field,
            old_value=text(before[field]),
            new_value=text(after[field]),
        )
        for field in after
        if text(before[field]) != text(after[field])
    )


@transaction.atomic
def request_transition(
    *, request: MaintenanceRequest, to_status, by, note: str = "", assignee=None, now=None
) -> MaintenanceRequest:
    """
    Move ``request`` to ``to_status`` on behalf of ``by`` (None: the system),
    if the workflow allows that step and ``by`` may take it. Moving to
    ``assigned`` needs ``assignee``, an active technician. The step is
    logged as a RequestTransition and the changed fields in the audit trail.

    Raise TransitionRefused otherwise. ``request`` is refreshed in place.
    """
    to_status = Status(to_status)
    at = now or timezone.now()
    # Lock the row: two people acting at once must not both start from the
    # status they saw.
    locked = MaintenanceRequest.objects.select_for_update().get(pk=request.pk)
    from_status = Status(locked.status)
    allowed = TRANSITIONS.get((from_status, to_status))
    if allowed is None:
        _refuse_not_in_workflow(locked, to_status)
    if not request_actors(locked, by) & allowed:
        raise TransitionRefused(
            _("You may not move this request from “%(from)s” to “%(to)s”."),
            code="transition_forbidden",
            params={"from": from_status.label, "to": to_status.label},
        )
    before = {"status": locked.status, "assignee": locked.assignee}
    facts_before = rollup.rollup_facts(locked)
    if to_status == Status.ASSIGNED:
        _validate_assignee(assignee)
        locked.assignee = assignee
    elif assignee is not None:
        raise TransitionRefused(
            _("An assignee can only be given when assigning."), code="assignee_not_expected"
        )

    locked.status = to_status
    # Resuming from hold is not a new start: started_at keeps the first start.
    if not (to_status == Status.IN_PROGRESS and from_status == Status.ON_HOLD):
        setattr(locked, STAMPS[to_status], at)
    if to_status == Status.REOPENED:
        # No longer resolved or closed; the earlier times stay in the transition log.
        locked.resolved_at = locked.closed_at = None
    locked.save()
    # The dashboard's counts move in this transaction: a rollback takes them back.
    rollup.rollup_record(facts_before, rollup.rollup_facts(locked))
    step = RequestTransition.objects.create(
        request=locked, from_status=from_status, to_status=to_status, by=by, note=note, at=at
    )
    _audit(locked, by, at, before, {"status": locked.status, "assignee": locked.assignee})
    # E-mails go once this commits, so a step that rolls back tells nobody.
    # The assignee is passed as of this step: by the time the e-mails go,
    # a later step may have changed it.
    notifications.on_commit_notify(notifications.notify_transition, step.pk, locked.assignee_id)
    events.announce(
        events.EventKind.STATUS_CHANGED,
        locked.pk,
        from_status=from_status.value,
        to_status=to_status.value,
        by=by.email if by else None,
        note=note,
    )
    if locked.assignee_id != getattr(before["assignee"], "pk", None):
        events.announce(
            events.EventKind.ASSIGNED,
            locked.pk,
            assignee=locked.assignee.email,
            by=by.email if by else None,
        )
    request.refresh_from_db()
    return request


# --- Creating and editing --------------------------------------------------------


def _next_number() -> int:
    """
    Take the tenant's next request number.

    The row lock taken by the upsert is held until the creating transaction
    ends: concurrent creates wait in turn, and a rollback returns the number.
    """
    table = connection.ops.quote_name(RequestCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, last_number) VALUES (1, 1) "  # noqa: S608 (our table name)
            f"ON CONFLICT (id) DO UPDATE SET last_number = {table}.last_number + 1 "
            "RETURNING last_number"
        )
        return cursor.fetchone()[0]


class DetailsRefused(ValidationError):
    """
    ``details`` that do not fit the request's type: ``message_dict`` names the
    detail fields at fault, or ``type`` when the type takes no details. The
    one check of the details; the API shows it under its ``details`` field.
    """


class UnknownDetails(DetailsRefused, TypeError):
    """
    Names that are no field of the type's details: to a Python caller a wrong
    keyword (a TypeError, as from the model's constructor), to the API's
    caller bad input like any other.
    """


def _is_whole(value) -> bool:
    return not isinstance(value, float) or value.is_integer()


def _details_build(request: MaintenanceRequest, details: dict | None):
    model = DETAIL_MODELS.get(request.type)
    if model is None:
        if details is not None:  # even empty: the API has always refused that
            raise DetailsRefused(
                {"type": _("Only electrical, plumbing and HVAC requests take details.")},
                code="details_not_expected",
            )
        return None
    details = details or {}
    fields = {field.name: field for field in model._meta.fields if field.name != "request"}
    unknown = sorted(set(details) - set(fields))
    if unknown:
        raise UnknownDetails({name: _("Not a field of this type.") for name in unknown})
    # full_clean() skips empty values of blank fields, None included, which
    # the database would then refuse; and it would store a list or an object
    # given for a text as its repr.
    errors = {}
    for name, value in details.items():
        if value is None and not fields[name].null:
            errors[name] = [fields[name].error_messages["null"]]
        elif isinstance(value, dict | list):
            errors[name] = [_("Expected a single value, not a list or an object.")]
        elif isinstance(fields[name], models.IntegerField) and not _is_whole(value):
            # The model field would truncate 2.5 to 2 without a word.
            errors[name] = [_("Enter a whole number.")]
    row = model(request=request, **details)
    try:
        row.full_clean(exclude=["request", *errors])
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise DetailsRefused(errors)
    return row


def due_at_for(priority, created, request_settings=None):
    """When a request of ``priority`` filed at ``created`` is due under the tenant's SLA."""
    request_settings = request_settings or selectors.request_settings_get()
    return created + timedelta(hours=request_settings.sla_hours(priority))


@transaction.atomic
def request_create(
    *,
    title: str,
    description: str = "",
    type: str = RequestType.GENERAL,
    priority: str = "medium",
    requester=None,
    reporter_name: str = "",
    reporter_contact: str = "",
    asset=None,
    location=None,
    details: dict | None = None,
    **fields,
) -> MaintenanceRequest:
    """
    File a request in ``new``, numbered, with its due date from the SLA of
    its priority. ``requester`` is the user filing it; a public report has
    none and gives ``reporter_name`` and ``reporter_contact`` instead.
    ``details`` are the type-specific fields (see ElectricalDetails,
    PlumbingDetails, HvacDetails). Without a ``location``, the asset's is
    used. Counts against the monthly plan limit.
    """
    if WORKFLOW_FIELDS & set(fields):
        raise TypeError(f"request_create() sets {sorted(WORKFLOW_FIELDS & set(fields))} itself.")
    now = timezone.now()
    request = MaintenanceRequest(
        title=title,
        description=description,
        type=type,
        priority=priority,
        requester=requester,
        reporter_name=reporter_name,
        reporter_contact=reporter_contact,
        asset=asset,
        location=location if location is not None or asset is None else asset.location,
        created=now,
        **fields,
    )
    request.full_clean(exclude=["number"])
    if requester is not None and not requester.is_active:
        raise ValidationError({"requester": _("This account is deactivated.")}, code="inactive")
    detail_row = _details_build(request, details)

    limits.reserve(current_tenant(), limits.Resource.REQUESTS)
    request.number = _next_number()
    request.due_at = due_at_for(request.priority, now)
    request.save()
    rollup.rollup_record(None, rollup.rollup_facts(request))
    if detail_row is not None:
        detail_row.request = request
        detail_row.save()
    RequestTransition.objects.create(
        request=request, from_status="", to_status=Status.NEW, by=requester, at=now
    )
    events.announce(events.EventKind.CREATED, request.pk)
    return request


def request_report_problem(
    *, asset, reporter_name: str, reporter_contact: str, title: str, description: str
) -> MaintenanceRequest:
    """
    File a maintenance request, in status ``new``, for a problem reported by
    anyone holding the asset's QR code (the public report page). Raises
    ValidationError (including PlanLimitReached) when it cannot be filed. The
    request has no ``requester`` (no account); the reporter's name and
    contact are its own fields.
    """
    if asset.status == AssetStatus.RETIRED:
        raise ValidationError(
            _("This asset has been retired and no longer takes reports."), code="asset_retired"
        )
    return request_create(
        title=title,
        description=description,
        reporter_name=reporter_name,
        reporter_contact=reporter_contact,
        asset=asset,
    )


def request_may_edit(request: MaintenanceRequest, user) -> bool:
    """Whether ``user`` may change ``request``: leads at any time, its requester while new."""
    actors = request_actors(request, user)
    return bool(actors & LEADS or (REQUESTER in actors and request.status == Status.NEW))


def _detail_values(row) -> dict:
    """A details row's fields by name (``request`` left out); empty for none."""
    if row is None:
        return {}
    return {
        field.name: getattr(row, field.name)
        for field in row._meta.fields
        if field.name != "request"
    }


@transaction.atomic
def request_update(
    *, request: MaintenanceRequest, by, details: dict | None = None, **changes
) -> MaintenanceRequest:
    """
    Change a request's title, description, priority, asset or location, and
    the ``details`` of its type (the fields given; the others keep their
    values), checked as request_create checks them. Admins and managers may
    at any time; its requester while it is still new. A new priority moves
    the due date to the new SLA, counted from filing. Changed details are
    audited as ``details.<field>``.
    """
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise TypeError(f"request_update() cannot change {sorted(unknown)}.")
    locked = MaintenanceRequest.objects.select_for_update().get(pk=request.pk)
    if not request_may_edit(locked, by):
        raise ValidationError(_("You may not edit this request."), code="edit_forbidden")
    tracked = (*UPDATABLE_FIELDS, "due_at")
    before = {field: getattr(locked, field) for field in tracked}
    facts_before = rollup.rollup_facts(locked)
    for field, value in changes.items():
        setattr(locked, field, value)
    locked.full_clean(exclude=["number"])
    detail_row = None
    if details is not None:
        current = locked.details
        details_before = _detail_values(current)
        detail_row = _details_build(locked, {**details_before, **details})
    if locked.priority != before["priority"]:
        locked.due_at = due_at_for(locked.priority, locked.created)
    locked.save()
    rollup.rollup_record(facts_before, rollup.rollup_facts(locked))
    at = timezone.now()
    _audit(locked, by, at, before, {field: getattr(locked, field) for field in tracked})
    if detail_row is not None:
        detail_row.save()
        detail_row.refresh_from_db()  # as stored: "18.50" is kept as 18.5
        after = _detail_values(detail_row)
        _audit(
            locked,
            by,
            at,
            {f"details.{name}": details_before.get(name) for name in after},
            {f"details.{name}": value for name, value in after.items()},
        )
    request.refresh_from_db()
    return request


@transaction.atomic
def requests_assign(*, requests, assignee, by, note: str = "") -> list[MaintenanceRequest]:
    """
    Assign several requests to ``assignee`` at once (the list page's bulk
    action), each through ``request_transition``, so the workflow's rules
    hold for every one. All or nothing: if any of them may not be assigned,
    none is, and the ValidationError names each refused request.
    """
    _validate_assignee(assignee)
    # One lock order for everyone: two bulk assignments cannot deadlock.
    requests = sorted(requests, key=lambda request: request.pk)
    if not requests:
        raise ValidationError(_("Choose the requests to assign."), code="nothing_chosen")
    refusals = []
    for request in requests:
        try:
            request_transition(
                request=request, to_status=Status.ASSIGNED, by=by, note=note, assignee=assignee
            )
        except TransitionRefused as error:
            refusals.append(f"{request.reference}: {' '.join(error.messages)}")
    if refusals:
        raise ValidationError(refusals, code="assign_refused")
    return requests


@transaction.atomic
def request_comment_create(*, request: MaintenanceRequest, author, body: str) -> RequestComment:
    """Comment on a request; anyone who can see the request may."""
    if not selectors.request_is_visible_to(request, author):
        raise ValidationError(_("You cannot comment on this request."), code="comment_forbidden")
    comment = RequestComment(request=request, author=author, body=body.strip())
    comment.full_clean()
    comment.save()
    notifications.on_commit_notify(notifications.notify_comment, comment.pk)
    events.announce(
        events.EventKind.COMMENTED,
        request.pk,
        comment_id=comment.pk,
        author=author.email,
        body=comment.body,
    )
    return comment


# --- Automatic closing ----------------------------------------------------------


def requests_close_resolved(*, now=None) -> int:
    """
    Close the requests of the current tenant resolved at least the tenant's
    ``auto_close_days`` ago. Idempotent: a second run finds nothing to do.
    Returns how many were closed.
    """
    now = now or timezone.now()
    days = selectors.request_settings_get().auto_close_days
    if not days:
        return 0
    cutoff = now - timedelta(days=days)
    due = MaintenanceRequest.objects.filter(status=Status.RESOLVED, resolved_at__lte=cutoff)

    def close(request):
        # Read again under the lock: it may have been reopened (and even
        # resolved again, later) since the list was read.
        request_transition(
            request=request,
            to_status=Status.CLOSED,
            by=None,
            note=f"Closed automatically {days} days after it was resolved.",
            now=now,
        )

    return each_locked(due.order_by("resolved_at", "pk"), recheck=due, apply=close)


# --- Settings ----------------------------------------------------------


@transaction.atomic
def request_settings_update(**fields) -> RequestSettings:
    """Change the tenant's SLA hours or auto-close days. Due dates already set stay."""
    request_settings = RequestSettings.objects.select_for_update().filter(pk=1).first()
    request_settings = request_settings or RequestSettings(pk=1)
    for field, value in fields.items():
        if field not in {f.name for f in RequestSettings._meta.fields} - {"id"}:
            raise TypeError(f"RequestSettings has no field {field!r}.")
        setattr(request_settings, field, value)
    request_settings.full_clean(validate_unique=False)
    request_settings.save()
    return request_settings
