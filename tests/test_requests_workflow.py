"""
The request workflow: every (from, to) pair of statuses tried by every kind
of actor. The expected matrix is written out here on its own, not read from
the service's table, so a change to the rules has to change this test too.
"""

import pytest
from django.db import transaction
from django_tenants.utils import tenant_context

from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from requests_app.models import MaintenanceRequest, RequestTransition, Status
from requests_app.services import TransitionRefused, request_create, request_transition
from tenants.models import Tenant
from tenants.services import tenant_update

STATUSES = [
    "new",
    "triaged",
    "assigned",
    "in_progress",
    "on_hold",
    "resolved",
    "closed",
    "cancelled",
    "reopened",
]
ACTORS = [
    "admin",
    "manager",
    "assignee",
    "other_technician",
    "requester",
    "other_requester",
    "system",
]

# from          to            who may
ALLOWED = """
new             triaged       admin manager
new             cancelled     admin manager requester
triaged         assigned      admin manager
triaged         cancelled     admin manager
assigned        assigned      admin manager
assigned        in_progress   assignee
assigned        cancelled     admin manager
in_progress     on_hold       assignee
in_progress     resolved      assignee
in_progress     assigned      admin manager
in_progress     cancelled     admin manager
on_hold         in_progress   assignee
on_hold         assigned      admin manager
on_hold         cancelled     admin manager
resolved        closed        admin manager requester system
resolved        reopened      admin manager requester
closed          reopened      admin manager
reopened        assigned      admin manager
reopened        in_progress   assignee
reopened        cancelled     admin manager
"""
EXPECTED = {
    (line.split()[0], line.split()[1]): set(line.split()[2:])
    for line in ALLOWED.strip().splitlines()
}
# Requests in these statuses have an assignee (the "assignee" actor).
HAS_ASSIGNEE = {"assigned", "in_progress", "on_hold", "resolved", "closed", "reopened"}


@pytest.fixture
def other(alpha):
    """The ``beta`` tenant, while the test stays in alpha's schema."""
    return Tenant.objects.get(subdomain="beta")


class Undo(Exception):
    pass


@pytest.fixture
def people(alpha):
    tenant_update(tenant=alpha, actor="test", max_users=None)
    roles = roles_provision_defaults()

    def make(name, role):
        return user_create(email=f"{name}@alpha.example", password=None, roles=[roles[role]])

    return {
        "admin": make("admin", BuiltinRole.ADMIN),
        "manager": make("manager", BuiltinRole.MANAGER),
        "assignee": make("assignee", BuiltinRole.TECHNICIAN),
        "other_technician": make("tech2", BuiltinRole.TECHNICIAN),
        "requester": make("requester", BuiltinRole.REQUESTER),
        "other_requester": make("requester2", BuiltinRole.REQUESTER),
        "system": None,
    }


def request_in(status, people):
    request = request_create(title=f"Leak ({status})", requester=people["requester"])
    MaintenanceRequest.objects.filter(pk=request.pk).update(
        status=status, assignee=people["assignee"] if status in HAS_ASSIGNEE else None
    )
    request.refresh_from_db()
    return request


def attempt(request, to_status, by, assignee):
    """Try a transition and undo it; True if it was allowed."""
    try:
        with transaction.atomic():
            request_transition(
                request=request,
                to_status=to_status,
                by=by,
                note="matrix",
                assignee=assignee if to_status == "assigned" else None,
            )
            request.refresh_from_db()
            assert request.status == to_status
            step = RequestTransition.objects.filter(request=request).latest("pk")
            assert (step.to_status, step.by, step.note) == (to_status, by, "matrix")
            raise Undo
    except Undo:
        return True
    except TransitionRefused:
        return False


def test_the_expected_matrix_covers_only_real_statuses():
    assert set(STATUSES) == set(Status.values)
    assert {status for pair in EXPECTED for status in pair} <= set(STATUSES)


@pytest.mark.parametrize("from_status", STATUSES)
def test_every_transition_by_every_actor(alpha, people, from_status):
    request = request_in(from_status, people)
    transitions_before = RequestTransition.objects.filter(request=request).count()
    wrong = []
    for to_status in STATUSES:
        for actor in ACTORS:
            allowed = attempt(request, to_status, people[actor], people["other_technician"])
            expected = actor in EXPECTED.get((from_status, to_status), set())
            if allowed != expected:
                wrong.append(f"{actor}: {from_status} -> {to_status} allowed={allowed}")
            request.refresh_from_db()
            assert request.status == from_status
    assert wrong == []
    # Refusals leave nothing behind.
    assert RequestTransition.objects.filter(request=request).count() == transitions_before


def test_refusals_say_why(alpha, people):
    request = request_in("new", people)
    with pytest.raises(TransitionRefused) as refused:
        request_transition(request=request, to_status="resolved", by=people["admin"])
    assert refused.value.code == "transition_not_allowed"
    with pytest.raises(TransitionRefused) as refused:
        request_transition(request=request, to_status="triaged", by=people["requester"])
    assert refused.value.code == "transition_forbidden"


def test_assigning_needs_an_active_technician(alpha, people):
    request = request_in("triaged", people)
    with pytest.raises(TransitionRefused) as refused:
        request_transition(request=request, to_status="assigned", by=people["manager"])
    assert refused.value.code == "assignee_required"
    with pytest.raises(TransitionRefused) as refused:
        request_transition(
            request=request,
            to_status="assigned",
            by=people["manager"],
            assignee=people["requester"],
        )
    assert refused.value.code == "invalid_assignee"
    people["assignee"].is_active = False
    people["assignee"].save()
    with pytest.raises(TransitionRefused):
        request_transition(
            request=request, to_status="assigned", by=people["manager"], assignee=people["assignee"]
        )
    request_transition(
        request=request,
        to_status="assigned",
        by=people["manager"],
        assignee=people["other_technician"],
    )
    assert (request.status, request.assignee) == ("assigned", people["other_technician"])


def test_an_inactive_user_can_do_nothing(alpha, people):
    request = request_in("new", people)
    people["admin"].is_active = False
    people["admin"].save()
    with pytest.raises(TransitionRefused):
        request_transition(request=request, to_status="triaged", by=people["admin"])


def test_a_full_life_is_logged_with_stamps(alpha, people):
    manager, tech = people["manager"], people["assignee"]
    request = request_create(title="No power", type="electrical", requester=people["requester"])
    request_transition(request=request, to_status="triaged", by=manager, note="Looks real")
    request_transition(request=request, to_status="assigned", by=manager, assignee=tech)
    request_transition(request=request, to_status="in_progress", by=tech)
    started = request.started_at
    request_transition(request=request, to_status="on_hold", by=tech, note="Waiting for a part")
    request_transition(request=request, to_status="in_progress", by=tech)
    assert request.started_at == started  # resuming is not starting
    request_transition(request=request, to_status="resolved", by=tech)
    assert request.resolved_at is not None
    request_transition(
        request=request, to_status="reopened", by=people["requester"], note="Still dark"
    )
    assert (request.resolved_at, request.closed_at) == (None, None)
    assert request.reopened_at is not None
    request_transition(request=request, to_status="in_progress", by=tech)
    request_transition(request=request, to_status="resolved", by=tech)
    request_transition(request=request, to_status="closed", by=people["requester"])

    steps = list(
        RequestTransition.objects.filter(request=request).values_list(
            "from_status", "to_status", "by__email", "note"
        )
    )
    assert steps == [
        ("", "new", "requester@alpha.example", ""),
        ("new", "triaged", "manager@alpha.example", "Looks real"),
        ("triaged", "assigned", "manager@alpha.example", ""),
        ("assigned", "in_progress", "assignee@alpha.example", ""),
        ("in_progress", "on_hold", "assignee@alpha.example", "Waiting for a part"),
        ("on_hold", "in_progress", "assignee@alpha.example", ""),
        ("in_progress", "resolved", "assignee@alpha.example", ""),
        ("resolved", "reopened", "requester@alpha.example", "Still dark"),
        ("reopened", "in_progress", "assignee@alpha.example", ""),
        ("in_progress", "resolved", "assignee@alpha.example", ""),
        ("resolved", "closed", "requester@alpha.example", ""),
    ]
    request.refresh_from_db()
    assert request.status == "closed"
    assert request.triaged_at <= request.assigned_at <= request.started_at <= request.closed_at


def test_transitions_of_one_tenant_do_not_touch_another(alpha, other, people):
    request = request_in("new", people)
    with tenant_context(other):
        assert not RequestTransition.objects.exists()
        assert not MaintenanceRequest.objects.exists()
    request_transition(request=request, to_status="triaged", by=people["manager"])
    with tenant_context(other):
        assert not RequestTransition.objects.exists()


def test_custom_roles_take_part_through_permissions(alpha, people):
    """The workflow keys on permissions, so a tenant's own roles work in it."""
    from django.contrib.auth.models import Group

    from accounts.roles import role_permissions
    from requests_app.selectors import request_list_visible_to

    dispatcher = Group.objects.create(name="Dispatcher")
    dispatcher.permissions.set(role_permissions(["requests_app.manage_all_requests"]))
    contractor = Group.objects.create(name="Contractor")
    contractor.permissions.set(role_permissions(["requests_app.work_on_requests"]))
    lead = user_create(email="dispatch@alpha.example", password=None, roles=[dispatcher])
    worker = user_create(email="contractor@alpha.example", password=None, roles=[contractor])
    nobody = user_create(email="nobody@alpha.example", password=None, roles=[])

    request = request_in("new", people)
    assert request in request_list_visible_to(lead)
    assert request not in request_list_visible_to(nobody)
    with pytest.raises(TransitionRefused):
        request_transition(request=request, to_status="triaged", by=nobody)
    request_transition(request=request, to_status="triaged", by=lead)
    with pytest.raises(TransitionRefused) as refused:
        request_transition(request=request, to_status="assigned", by=lead, assignee=lead)
    assert refused.value.code == "invalid_assignee"
    request_transition(request=request, to_status="assigned", by=lead, assignee=worker)
    request_transition(request=request, to_status="in_progress", by=worker)
    assert request.status == "in_progress"
