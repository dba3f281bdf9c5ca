"""Reads for maintenance requests: who sees what, settings, history."""

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from accounts.models import User
from accounts.roles import MANAGE_ALL_REQUESTS, WORK_ON_REQUESTS

# The workflow's permission checks and trades are accounts' (it owns roles,
# permissions and trades); the workflow reads them under these names.
from accounts.selectors import (
    user_is_lead,
    user_is_technician,
    user_list_with_permission,
    user_trades,
)
from billing.limits import month_start
from requests_app.models import (
    MaintenanceRequest,
    RequestChange,
    RequestComment,
    RequestSettings,
    RequestTransition,
    overdue_condition,
)


def assignee_get(pk) -> User | None:
    """
    The user picked as assignee (by id, on the request page), or None for an
    unknown id. Whether they may be assigned is the workflow's call
    (``services.request_transition``).
    """
    return User.objects.filter(pk=pk).first()


def technician_list():
    """Active technicians: the people a request can be assigned to."""
    return user_list_with_permission(WORK_ON_REQUESTS)


ADD_REQUEST = "requests_app.add_maintenancerequest"


def user_may_file_requests(user) -> bool:
    """Filing a request takes ``add_maintenancerequest`` (requesters, managers, admins)."""
    return user.is_active and user.has_perm(ADD_REQUEST)


def lead_list():
    """Active leads: the people who answer for every request."""
    return user_list_with_permission(MANAGE_ALL_REQUESTS)


def request_count_this_month(tenant, now=None) -> int:
    """Requests filed since the tenant's local month began: what max_requests_per_month caps."""
    return MaintenanceRequest.objects.filter(created__gte=month_start(tenant, now)).count()


def request_settings_get() -> RequestSettings:
    """The tenant's request settings, or the defaults (unsaved) if never changed."""
    return RequestSettings.objects.filter(pk=1).first() or RequestSettings(pk=1)


def request_visibility_filter(user) -> Q | None:
    """
    The condition on requests ``user`` may see; None means all of them.

    Everyone sees the requests they filed. Technicians also see those
    assigned to them and the unassigned ones of their trades. Admins and
    managers see all. Inactive and anonymous users see none.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(pk__in=[])
    if user_is_lead(user):
        return None
    condition = Q(requester=user)
    if user_is_technician(user):
        condition |= Q(assignee=user)
        trades = user_trades(user)
        if trades:
            condition |= Q(assignee__isnull=True, type__in=trades)
    return condition


def request_list_visible_to(user) -> QuerySet[MaintenanceRequest]:
    """The requests ``user`` may see, newest first, with people, asset and location joined."""
    requests = MaintenanceRequest.objects.select_related(
        "requester", "assignee", "asset", "location"
    )
    condition = request_visibility_filter(user)
    return requests if condition is None else requests.filter(condition)


def request_get_visible(user, pk) -> MaintenanceRequest:
    """One request ``user`` may see, with its details; DoesNotExist otherwise."""
    return request_list_visible_to(user).select_related("electrical", "plumbing", "hvac").get(pk=pk)


def requests_flag_overdue(requests: QuerySet, now) -> QuerySet[MaintenanceRequest]:
    """``requests``, each with ``is_overdue`` at ``now`` (the one definition of overdue)."""
    return requests.annotate(
        is_overdue=ExpressionWrapper(overdue_condition(now), output_field=BooleanField())
    )


def request_list_chosen(user, pks) -> list[MaintenanceRequest]:
    """The requests of ``pks`` that ``user`` may see (ids out of sight are left out)."""
    return list(request_list_visible_to(user).filter(pk__in=pks))


def request_is_visible_to(request: MaintenanceRequest, user) -> bool:
    return request_list_visible_to(user).filter(pk=request.pk).exists()


def request_transitions(request: MaintenanceRequest) -> QuerySet[RequestTransition]:
    return request.transitions.select_related("by")


def request_comments(request: MaintenanceRequest) -> QuerySet[RequestComment]:
    return request.comments.select_related("author")


def request_changes(request: MaintenanceRequest) -> QuerySet[RequestChange]:
    return request.changes.select_related("by")


class HistoryEntry:
    """A transition or a change, as one kind of row for the history list."""

    __slots__ = (
        "at",
        "by",
        "field",
        "from_status",
        "kind",
        "new_value",
        "note",
        "old_value",
        "pk",
        "to_status",
    )

    def __init__(self, kind, row):
        self.kind = kind
        for name in ("at", "pk", "by"):
            setattr(self, name, getattr(row, name))
        names = (
            ("from_status", "to_status", "note")
            if kind == "transition"
            else ("field", "old_value", "new_value")
        )
        for name in names:
            setattr(self, name, getattr(row, name))


def request_history(request: MaintenanceRequest) -> list[HistoryEntry]:
    """
    What happened to ``request``, oldest first: its transitions and its
    changed fields as one list, a transition before the changes it made at
    the same moment. A request's history is short: two queries, merged here.
    """
    entries = [
        *(HistoryEntry("transition", row) for row in request_transitions(request)),
        *(HistoryEntry("change", row) for row in request_changes(request)),
    ]
    entries.sort(key=lambda entry: (entry.at, entry.kind != "transition", entry.pk))
    return entries
