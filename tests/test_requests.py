"""
Maintenance requests: creation, numbering, type details, SLA due dates,
visibility by role, comments, audit trail, automatic closing and isolation
between tenants. The workflow matrix is in test_requests_workflow.py and
numbering under concurrency in test_requests_concurrency.py.
"""

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.roles import BuiltinRole
from accounts.services import user_trades_set
from assets.services import asset_create, location_create
from requests_app.models import (
    ElectricalDetails,
    MaintenanceRequest,
    RequestChange,
    RequestComment,
    RequestTransition,
)
from requests_app.selectors import request_get_visible, request_list_visible_to
from requests_app.services import (
    request_comment_create,
    request_create,
    request_settings_update,
    request_transition,
    request_update,
    requests_close_resolved,
)
from tenants.models import Tenant


@pytest.fixture
def other(alpha):
    """The ``beta`` tenant, while the test stays in alpha's schema."""
    return Tenant.objects.get(subdomain="beta")


class Boom(Exception):
    pass


STAFF = {
    "admin": BuiltinRole.ADMIN,
    "manager": BuiltinRole.MANAGER,
    "electrician": BuiltinRole.TECHNICIAN,
    "plumber": BuiltinRole.TECHNICIAN,
    "newcomer": BuiltinRole.TECHNICIAN,
    "ann": BuiltinRole.REQUESTER,
    "bob": BuiltinRole.REQUESTER,
}


@pytest.fixture
def people(alpha, make_people):
    return make_people(alpha, **STAFF)


def assign(request, to, by):
    request_transition(request=request, to_status="triaged", by=by)
    request_transition(request=request, to_status="assigned", by=by, assignee=to)


# --- creating and numbering ------------------------------------------------------


def test_requests_are_numbered_one_by_one_and_shown_as_req_numbers(alpha):
    first = request_create(title="Leak")
    second = request_create(title="Flicker", description="Hall lights.")
    assert (first.number, second.number) == (1, 2)
    assert (first.reference, second.reference) == ("REQ-000001", "REQ-000002")
    assert str(second) == "REQ-000002 Flicker"
    assert (second.status, second.type, second.priority) == ("new", "general", "medium")


def test_a_rolled_back_create_leaves_no_gap(alpha):
    request_create(title="One")
    with pytest.raises(Boom), transaction.atomic():
        taken = request_create(title="Rolled back")
        assert taken.number == 2
        raise Boom
    assert request_create(title="Two").number == 2
    assert list(MaintenanceRequest.objects.order_by("number").values_list("number", flat=True)) == [
        1,
        2,
    ]


def test_an_invalid_create_takes_no_number(alpha):
    with pytest.raises(ValidationError):
        request_create(title="")
    with pytest.raises(ValidationError):
        request_create(title="Bad leak", type="plumbing", details={"leak_severity": "oceanic"})
    assert request_create(title="Good").number == 1


def test_numbers_are_per_tenant(alpha, other):
    request_create(title="Alpha one")
    request_create(title="Alpha two")
    with tenant_context(other):
        assert request_create(title="Beta one").reference == "REQ-000001"
        assert list(MaintenanceRequest.objects.values_list("title", flat=True)) == ["Beta one"]
    assert set(MaintenanceRequest.objects.values_list("title", flat=True)) == {
        "Alpha one",
        "Alpha two",
    }


def test_create_records_requester_public_reporter_and_first_transition(alpha, people):
    filed = request_create(title="Heater cold", type="hvac", requester=people["ann"])
    public = request_create(
        title="Door stuck", reporter_name="Visitor", reporter_contact="visitor@example.com"
    )
    assert filed.requester == people["ann"]
    assert (public.requester, public.reporter_name, public.reporter_contact) == (
        None,
        "Visitor",
        "visitor@example.com",
    )
    assert list(filed.transitions.values_list("from_status", "to_status", "by")) == [
        ("", "new", people["ann"].pk)
    ]
    assert list(public.transitions.values_list("to_status", "by")) == [("new", None)]


def test_create_refuses_workflow_fields(alpha, people):
    with pytest.raises(TypeError):
        request_create(title="Sneaky", status="closed")
    with pytest.raises(TypeError):
        request_create(title="Sneaky", assignee=people["plumber"])


def test_type_specific_details_are_stored_and_checked(alpha):
    electrical = request_create(
        title="Sparks",
        type="electrical",
        details={"voltage": 230, "circuit": "Panel B / 12", "hazard_present": True},
    )
    plumbing = request_create(
        title="Burst pipe",
        type="plumbing",
        details={"leak_severity": "burst", "water_shutoff_needed": True, "fixture": "Boiler room"},
    )
    hvac = request_create(
        title="Too hot",
        type="hvac",
        details={"system_type": "chiller", "reported_temperature": "31.5"},
    )
    bare = request_create(title="Sparks again", type="electrical")

    row = MaintenanceRequest.objects.select_related("electrical").get(pk=electrical.pk)
    assert (row.details.voltage, row.details.circuit, row.details.hazard_present) == (
        230,
        "Panel B / 12",
        True,
    )
    assert MaintenanceRequest.objects.get(pk=plumbing.pk).details.leak_severity == "burst"
    hvac_details = MaintenanceRequest.objects.get(pk=hvac.pk).details
    assert (str(hvac_details.reported_temperature), hvac_details.refrigerant_involved) == (
        "31.5",
        False,
    )
    assert isinstance(bare.details, ElectricalDetails)  # a detail row with defaults
    assert request_create(title="Squeaky door").details is None

    with pytest.raises(ValidationError) as refused:
        request_create(title="General", details={"voltage": 1})
    assert "type" in refused.value.message_dict
    with pytest.raises(TypeError):
        request_create(title="Wrong field", type="hvac", details={"voltage": 1})


def test_location_is_given_or_taken_from_the_asset(alpha):
    site = location_create(name="HQ", kind="site")
    room = location_create(name="Boiler room", kind="room", parent=site)
    boiler = asset_create(name="Boiler", asset_tag="B-1", location=room)
    assert request_create(title="Cold", asset=boiler).location == room
    assert request_create(title="Cold", asset=boiler, location=site).location == site
    assert request_create(title="Lobby door", location=site).location == site
    assert request_create(title="Somewhere").location is None


# --- SLA ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "hours"), [("urgent", 4), ("high", 24), ("medium", 72), ("low", 168)]
)
def test_due_date_follows_the_default_sla_of_the_priority(alpha, priority, hours):
    request = request_create(title="Fix it", priority=priority)
    assert request.due_at - request.created == timedelta(hours=hours)


def test_sla_can_be_changed_per_tenant(alpha, other):
    request_settings_update(sla_hours_urgent=1, sla_hours_low=500)
    assert request_create(title="Fire", priority="urgent").due_at - timezone.now() <= timedelta(
        hours=1
    )
    low = request_create(title="Paint", priority="low")
    assert low.due_at - low.created == timedelta(hours=500)
    with tenant_context(other):
        urgent = request_create(title="Fire", priority="urgent")
        assert urgent.due_at - urgent.created == timedelta(hours=4)
    with pytest.raises(ValidationError):
        request_settings_update(sla_hours_high=0)


def test_changing_the_priority_moves_the_due_date_and_is_audited(alpha, people):
    request = request_create(title="Leak", priority="low", requester=people["ann"])
    old_due = request.due_at
    request_update(request=request, by=people["manager"], priority="urgent", title="Big leak")
    assert request.due_at - request.created == timedelta(hours=4)
    changes = {
        change.field: (change.old_value, change.new_value, change.by)
        for change in RequestChange.objects.filter(request=request)
    }
    assert changes == {
        "title": ("Leak", "Big leak", people["manager"]),
        "priority": ("low", "urgent", people["manager"]),
        "due_at": (str(old_due), str(request.due_at), people["manager"]),
    }


def test_who_may_edit_a_request(alpha, people):
    request = request_create(title="Leak", requester=people["ann"])
    request_update(request=request, by=people["ann"], description="In the kitchen")
    for outsider in (people["bob"], people["electrician"]):
        with pytest.raises(ValidationError):
            request_update(request=request, by=outsider, title="Hijacked")
    request_transition(request=request, to_status="triaged", by=people["manager"])
    with pytest.raises(ValidationError):
        request_update(request=request, by=people["ann"], title="Too late")
    request_update(request=request, by=people["admin"], title="Kitchen leak")
    assert (request.title, request.description) == ("Kitchen leak", "In the kitchen")


def test_transitions_are_audited_field_by_field(alpha, people):
    request = request_create(title="Leak", type="plumbing", requester=people["ann"])
    assign(request, people["plumber"], people["manager"])
    changes = list(
        RequestChange.objects.filter(request=request).values_list(
            "field", "old_value", "new_value", "by"
        )
    )
    assert changes == [
        ("status", "new", "triaged", people["manager"].pk),
        ("status", "triaged", "assigned", people["manager"].pk),
        ("assignee", "", str(people["plumber"]), people["manager"].pk),
    ]


# --- visibility ----------------------------------------------------------------


@pytest.fixture
def filed(people):
    user_trades_set(user=people["electrician"], trades=["electrical"])
    user_trades_set(user=people["plumber"], trades=["plumbing", "hvac"])
    ann_electrical = request_create(
        title="ann electrical", type="electrical", requester=people["ann"]
    )
    bob_plumbing = request_create(title="bob plumbing", type="plumbing", requester=people["bob"])
    ann_hvac = request_create(title="ann hvac", type="hvac", requester=people["ann"])
    assign(ann_hvac, people["electrician"], people["manager"])
    bob_general = request_create(title="bob general", requester=people["bob"])
    public_electrical = request_create(
        title="public electrical", type="electrical", reporter_name="Visitor"
    )
    assign(public_electrical, people["plumber"], people["manager"])
    return [ann_electrical, bob_plumbing, ann_hvac, bob_general, public_electrical]


EVERYTHING = {"ann electrical", "bob plumbing", "ann hvac", "bob general", "public electrical"}


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("admin", EVERYTHING),
        ("manager", EVERYTHING),
        # their own only
        ("ann", {"ann electrical", "ann hvac"}),
        ("bob", {"bob plumbing", "bob general"}),
        # assigned to them, plus unassigned of their trades (not others' assigned ones)
        ("electrician", {"ann electrical", "ann hvac"}),
        ("plumber", {"bob plumbing", "public electrical"}),
        # a technician without trades sees only what is assigned to them: nothing
        ("newcomer", set()),
    ],
)
def test_visibility_by_role(alpha, people, filed, who, sees):
    titles = set(request_list_visible_to(people[who]).values_list("title", flat=True))
    assert titles == sees


def test_inactive_and_anonymous_users_see_nothing(alpha, people, filed):
    from django.contrib.auth.models import AnonymousUser

    people["admin"].is_active = False
    assert not request_list_visible_to(people["admin"]).exists()
    assert not request_list_visible_to(AnonymousUser()).exists()


def test_a_request_out_of_sight_cannot_be_fetched(alpha, people, filed):
    ann_electrical = filed[0]
    assert request_get_visible(people["ann"], ann_electrical.pk) == ann_electrical
    with pytest.raises(MaintenanceRequest.DoesNotExist):
        request_get_visible(people["bob"], ann_electrical.pk)


def test_setting_trades_replaces_them(alpha, people, filed):
    assert user_trades_set(user=people["newcomer"], trades=["general", "electrical"]) == [
        "electrical",
        "general",
    ]
    assert set(request_list_visible_to(people["newcomer"]).values_list("title", flat=True)) == {
        "ann electrical",
        "bob general",
    }
    user_trades_set(user=people["newcomer"], trades=["plumbing"])
    assert set(request_list_visible_to(people["newcomer"]).values_list("title", flat=True)) == {
        "bob plumbing"
    }
    with pytest.raises(ValueError):
        user_trades_set(user=people["newcomer"], trades=["carpentry"])


# --- comments --------------------------------------------------------------------


def test_comments_by_those_who_can_see_the_request(alpha, people, filed):
    ann_electrical = filed[0]
    comment = request_comment_create(
        request=ann_electrical, author=people["ann"], body=" Still off "
    )
    request_comment_create(request=ann_electrical, author=people["electrician"], body="On my way")
    assert list(ann_electrical.comments.values_list("author__email", "body")) == [
        ("ann@alpha.example", "Still off"),
        ("electrician@alpha.example", "On my way"),
    ]
    assert comment.created is not None
    with pytest.raises(ValidationError):
        request_comment_create(request=ann_electrical, author=people["bob"], body="Me too")
    with pytest.raises(ValidationError):
        request_comment_create(request=ann_electrical, author=people["ann"], body="   ")
    assert RequestComment.objects.count() == 2


# --- automatic closing -------------------------------------------------------------


def resolved_request(people, resolved_at, title="Leak"):
    request = request_create(title=title, type="plumbing", requester=people["ann"])
    assign(request, people["plumber"], people["manager"])
    request_transition(request=request, to_status="in_progress", by=people["plumber"])
    request_transition(request=request, to_status="resolved", by=people["plumber"], now=resolved_at)
    return request


def test_resolved_requests_close_after_the_tenants_days_once(alpha, people):
    resolved = timezone.now() - timedelta(days=30)
    request = resolved_request(people, resolved)
    reopened = resolved_request(people, resolved, title="Came back")
    request_transition(request=reopened, to_status="reopened", by=people["ann"])

    assert requests_close_resolved(now=resolved + timedelta(days=6, hours=23)) == 0
    request.refresh_from_db()
    assert request.status == "resolved"

    at = resolved + timedelta(days=7)
    assert requests_close_resolved(now=at) == 1
    assert requests_close_resolved(now=at) == 0
    assert requests_close_resolved(now=at + timedelta(days=1)) == 0
    request.refresh_from_db()
    assert (request.status, request.closed_at) == ("closed", at)
    closing = RequestTransition.objects.filter(request=request, to_status="closed")
    assert [(step.from_status, step.by, step.at) for step in closing] == [("resolved", None, at)]
    assert "automatically" in closing.get().note
    reopened.refresh_from_db()
    assert reopened.status == "reopened"


def test_auto_close_days_are_per_tenant_and_can_be_turned_off(alpha, people):
    resolved = timezone.now() - timedelta(days=3)
    request = resolved_request(people, resolved)
    assert requests_close_resolved() == 0  # default: 7 days
    request_settings_update(auto_close_days=None)
    assert requests_close_resolved(now=resolved + timedelta(days=100)) == 0
    request_settings_update(auto_close_days=2)
    assert requests_close_resolved() == 1
    request.refresh_from_db()
    assert request.status == "closed"


def test_close_resolved_requests_command_is_idempotent(alpha, other, people, make_people):
    request = resolved_request(people, timezone.now() - timedelta(days=8))
    with tenant_context(other):
        beta_people = make_people(other, **STAFF)
        beta_request = resolved_request(beta_people, timezone.now() - timedelta(days=1))

    first, second = io.StringIO(), io.StringIO()
    call_command("close_resolved_requests", stdout=first)
    call_command("close_resolved_requests", stdout=second)

    assert "alpha: closed 1 resolved request(s)." in first.getvalue()
    assert "1 request(s) closed." in first.getvalue()
    assert "0 request(s) closed." in second.getvalue()
    request.refresh_from_db()
    assert request.status == "closed"
    assert RequestTransition.objects.filter(request=request, to_status="closed").count() == 1
    with tenant_context(other):
        beta_request.refresh_from_db()
        assert beta_request.status == "resolved"


# --- isolation -------------------------------------------------------------------------


def test_alphas_requests_are_invisible_in_beta(alpha, other, people, filed, make_people):
    alpha_numbers = set(MaintenanceRequest.objects.values_list("number", flat=True))
    assert alpha_numbers == {1, 2, 3, 4, 5}
    with tenant_context(other):
        assert not MaintenanceRequest.objects.exists()
        assert not RequestTransition.objects.exists()
        assert not RequestChange.objects.exists()
        beta_admin = make_people(other, **STAFF)["admin"]
        assert not request_list_visible_to(beta_admin).exists()
        assert request_create(title="Beta's own").number == 1
    assert set(MaintenanceRequest.objects.values_list("number", flat=True)) == alpha_numbers
