"""Reads for maintenance requests: who sees what, settings, history."""

from django.db.models import Q, QuerySet

# The workflow's permission checks and trades are accounts' (it owns roles,
# permissions and trades); imported here as the names the workflow reads.
from accounts.selectors import (
    MANAGE_ALL_REQUESTS,
    WORK_ON_REQUESTS,
    user_is_lead,
    user_is_technician,
    user_list_with_permission,
    user_trades,
)
from requests_app.models import (
    MaintenanceRequest,
    RequestChange,
    RequestComment,
    RequestSettings,
    RequestTransition,
)


def technician_list():
    """Active technicians: the people a request can be assigned to."""
    return user_list_with_permission(WORK_ON_REQUESTS)


def lead_list():
    """Active leads: the people who answer for every request."""
    return user_list_with_permission(MANAGE_ALL_REQUESTS)


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


def request_is_visible_to(request: MaintenanceRequest, user) -> bool:
    return request_list_visible_to(user).filter(pk=request.pk).exists()


def request_transitions(request: MaintenanceRequest) -> QuerySet[RequestTransition]:
    return request.transitions.select_related("by")


def request_comments(request: MaintenanceRequest) -> QuerySet[RequestComment]:
    return request.comments.select_related("author")


def request_changes(request: MaintenanceRequest) -> QuerySet[RequestChange]:
    return request.changes.select_related("by")
