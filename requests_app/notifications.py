"""
E-mail notifications about maintenance requests: who is told about what, and
the sending. See docs/requests.md, "Notifications".

The services register ``transaction.on_commit(...)`` with the ids of what
changed (``on_commit_notify``); nothing here runs inside the writing
transaction, so a rolled-back change never sends an e-mail and a failing mail
server never rolls back a change. Sending is synchronous, in the process that
committed, through ``django.core.mail`` (``EMAIL_URL``).

Who is concerned, per kind (never the person who acted, never an inactive
account, never someone who has turned that kind off, never someone who can
no longer see the request):

- ``assignment``: the new assignee.
- ``status_change``: the requester, and the assignee; a public reporter
  (``reporter_contact`` when it is an e-mail address) too. The new assignee
  of an assignment gets the assignment e-mail instead.
- ``comment``: the requester, the assignee and everyone who commented before,
  except the author.
- ``sla_breach``: the assignee and every active admin and manager.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import NotificationPreference
from requests_app import selectors
from requests_app.models import (
    MaintenanceRequest,
    RequestComment,
    RequestTransition,
    SlaBreachNotice,
    Status,
)
from tenants.models import Tenant

logger = logging.getLogger(__name__)

ASSIGNMENT, STATUS_CHANGE, COMMENT, SLA_BREACH = NotificationPreference.KINDS
SUBJECTS = {
    ASSIGNMENT: "{reference} assigned to you: {title}",
    STATUS_CHANGE: "{reference} is now {status}: {title}",
    COMMENT: "New comment on {reference}: {title}",
    SLA_BREACH: "{reference} is overdue: {title}",
}


# --- Registering from the services ---------------------------------------------


def on_commit_notify(function, *ids):
    """
    Call ``function(*ids)`` once the current transaction commits, in the
    schema that is current now.

    The schema is captured here because the connection may have moved to
    another tenant by the time the callback runs (a command looping over
    tenants, a test switching schemas). ``robust``: the change is committed
    already, so a mail error is logged rather than turned into an error page.
    """
    schema = connection.schema_name

    # A plain function rather than a partial: Django logs a robust callback's
    # failure under its __qualname__, which partials lack.
    def notify():
        with schema_context(schema):
            function(*ids)

    notify.__qualname__ = f"notify:{function.__name__}{ids}"
    transaction.on_commit(notify, robust=True)


# --- Recipients ------------------------------------------------------------------


def recipients(request: MaintenanceRequest, kind: str, user_ids, actor_id=None) -> list:
    """
    The users among ``user_ids`` to e-mail about ``request``: active, not the
    actor, with ``kind`` switched on and able to see the request, in a
    stable order.
    """
    wanted = set(user_ids) - {None, actor_id}
    if not wanted:
        return []
    users = (
        get_user_model()
        .objects.filter(pk__in=wanted, is_active=True)
        # No preference row means every kind is on.
        .exclude(**{f"notification_preference__{kind}": False})
        .order_by("pk")
    )
    # People lose sight of a request (a technician reassigned away, a role
    # taken back); they must not keep reading it by e-mail.
    return [user for user in users if selectors.request_is_visible_to(request, user)]


def _lead_ids():
    return selectors.lead_list().values_list("pk", flat=True)


def transition_recipients(transition: RequestTransition, assignee_id) -> dict[str, list]:
    """
    Who is told about ``transition``, by kind (see the module docstring).
    ``assignee_id`` is the request's assignee right after that step.
    """
    request = transition.request
    assigned_now = transition.to_status == Status.ASSIGNED
    concerned = {
        ASSIGNMENT: recipients(request, ASSIGNMENT, [assignee_id], transition.by_id)
        if assigned_now
        else [],
        STATUS_CHANGE: [],
    }
    # Reassigning keeps the status: nothing changed for the requester.
    if transition.from_status != transition.to_status:
        ids = [request.requester_id]
        if not assigned_now:
            ids.append(assignee_id)
        concerned[STATUS_CHANGE] = recipients(request, STATUS_CHANGE, ids, transition.by_id)
    return concerned


def comment_recipients(comment: RequestComment) -> list:
    """Who is told about ``comment``: requester, assignee, earlier commenters; not its author."""
    request = comment.request
    earlier = RequestComment.objects.filter(request=request, pk__lt=comment.pk).values_list(
        "author_id", flat=True
    )
    ids = [request.requester_id, request.assignee_id, *earlier]
    return recipients(request, COMMENT, ids, comment.author_id)


def sla_breach_recipients(request: MaintenanceRequest) -> list:
    """Who is told that ``request`` is overdue: its assignee and every admin and manager."""
    return recipients(request, SLA_BREACH, [request.assignee_id, *_lead_ids()])


def public_reporter_address(request: MaintenanceRequest) -> str | None:
    """The public reporter's e-mail address, if they left one (it may be a phone number)."""
    contact = request.reporter_contact.strip()
    if request.requester_id is not None or not contact:
        return None
    try:
        validate_email(contact)
    except ValidationError:
        return None
    return contact


# --- Sending ---------------------------------------------------------------------


def _tenant():
    """
    The current tenant's row. ``schema_context`` leaves a stand-in without
    domains or name on the connection; the real row is read then.
    """
    tenant = connection.tenant
    if isinstance(tenant, Tenant):
        return tenant
    return Tenant.objects.get(schema_name=connection.schema_name)


def _request_url(request: MaintenanceRequest) -> str:
    domain = _tenant().get_primary_domain()
    scheme = "http" if settings.DEBUG else "https"
    path = reverse("requests_app:detail", kwargs={"pk": request.pk}, urlconf=settings.ROOT_URLCONF)
    return f"{scheme}://{domain.domain}{path}" if domain else path


def _message(kind, request, address, context) -> EmailMessage:
    # A step's e-mail names the status it moved to, which may not be the
    # request's status any more when the e-mail is written.
    transition = context.get("transition")
    status = transition.to_status if transition else request.status
    subject = SUBJECTS[kind].format(
        reference=request.reference,
        title=request.title,
        status=Status(status).label.lower(),
    )
    body = render_to_string(f"emails/request_{kind}.txt", {"request": request, **context})
    return EmailMessage(subject=subject, body=body, to=[address])


def _send(messages) -> int:
    # One message per person: recipients never see each other's addresses.
    if not messages:
        return 0
    with get_connection() as mail:
        return mail.send_messages(messages) or 0


def notify_transition(transition_id: int, assignee_id: int | None) -> int:
    """
    E-mail the people concerned by one workflow step, after which the
    request's assignee was ``assignee_id``. Returns how many e-mails went.
    """
    transition = (
        RequestTransition.objects.select_related("request", "request__assignee", "by")
        .filter(pk=transition_id)
        .first()
    )
    if transition is None:
        return 0
    request = transition.request
    context = {
        "transition": transition,
        "tenant": _tenant(),
        "from_label": Status(transition.from_status).label if transition.from_status else "",
        "to_label": Status(transition.to_status).label,
    }
    url = _request_url(request)
    messages = []
    for kind, users in transition_recipients(transition, assignee_id).items():
        for user in users:
            messages.append(_message(kind, request, user.email, {**context, "url": url}))
    reporter = public_reporter_address(request)
    if reporter and transition.from_status != transition.to_status:
        # No account, so no link (the staff page needs a login) and no preferences.
        messages.append(_message(STATUS_CHANGE, request, reporter, {**context, "url": ""}))
    return _send(messages)


def notify_comment(comment_id: int) -> int:
    """E-mail the people concerned by a new comment. Returns how many e-mails went."""
    comment = (
        RequestComment.objects.select_related("request", "author").filter(pk=comment_id).first()
    )
    if comment is None:
        return 0
    context = {
        "comment": comment,
        "tenant": _tenant(),
        "url": _request_url(comment.request),
    }
    return _send(
        [
            _message(COMMENT, comment.request, user.email, context)
            for user in comment_recipients(comment)
        ]
    )


def notify_sla_breach(request_id: int) -> int:
    """E-mail the people concerned by an overdue request. Returns how many e-mails went."""
    request = MaintenanceRequest.objects.select_related("assignee").filter(pk=request_id).first()
    if request is None:
        return 0
    context = {"tenant": _tenant(), "url": _request_url(request)}
    return _send(
        [
            _message(SLA_BREACH, request, user.email, context)
            for user in sla_breach_recipients(request)
        ]
    )


# --- SLA breaches ---------------------------------------------------------------


def requests_notify_sla_breaches(now=None) -> int:
    """
    Notify, once, every open request of the current tenant that is past its
    due date. A ``SlaBreachNotice`` records the due date notified, so running
    again sends nothing, unless the due date has since moved (a new priority)
    and been missed again. Returns how many requests were notified.

    The notice is written before the e-mails go (they go on commit): a mail
    failure loses that breach's e-mails rather than repeat them every run.
    """
    now = now or timezone.now()
    overdue = MaintenanceRequest.objects.overdue(now)
    pending = overdue.exclude(sla_breach_notice__due_at__gte=F("due_at"))
    notified = 0
    for pk in pending.order_by("due_at", "pk").values_list("pk", flat=True):
        with transaction.atomic():
            # Checked again under the row lock: another run may have notified
            # it, or someone resolved it, since the list was read.
            request = overdue.select_for_update().filter(pk=pk).first()
            if request is None:
                continue
            notice = SlaBreachNotice.objects.filter(request=request).first()
            if notice is not None and notice.due_at >= request.due_at:
                continue
            SlaBreachNotice.objects.update_or_create(
                request=request, defaults={"due_at": request.due_at, "notified_at": now}
            )
            on_commit_notify(notify_sla_breach, request.pk)
        notified += 1
    return notified
