"""Request events: announced once committed, in the tenant's schema, with what changed."""

import pytest
from django.db import connection, transaction

from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from requests_app.events import EventKind, request_event
from requests_app.services import request_comment_create, request_create, request_transition
from tenants.services import tenant_update


@pytest.fixture
def heard():
    events = []

    def receiver(kind, request_id, data, **kwargs):
        events.append((connection.schema_name, kind, request_id, data))

    request_event.connect(receiver, weak=False)
    yield events
    request_event.disconnect(receiver)


@pytest.fixture
def staff(alpha):
    tenant_update(tenant=alpha, actor="test", max_users=None)
    roles = roles_provision_defaults()
    return {
        role: user_create(
            email=f"{role.lower()}@events.example", password=None, roles=[roles[role]]
        )
        for role in (BuiltinRole.MANAGER, BuiltinRole.TECHNICIAN, BuiltinRole.REQUESTER)
    }


def test_each_kind_is_announced_after_commit(
    alpha, staff, heard, django_capture_on_commit_callbacks
):
    manager, tech = staff[BuiltinRole.MANAGER], staff[BuiltinRole.TECHNICIAN]
    with django_capture_on_commit_callbacks(execute=True):
        request = request_create(title="Leak", requester=staff[BuiltinRole.REQUESTER])
        assert heard == []  # nothing before the commit
    with django_capture_on_commit_callbacks(execute=True):
        request_transition(request=request, to_status="triaged", by=manager, note="ok")
        request_transition(request=request, to_status="assigned", by=manager, assignee=tech)
        request_comment_create(request=request, author=tech, body="On my way")

    assert [(schema, kind) for schema, kind, _id, _data in heard] == [
        (alpha.schema_name, EventKind.CREATED),
        (alpha.schema_name, EventKind.STATUS_CHANGED),
        (alpha.schema_name, EventKind.STATUS_CHANGED),
        (alpha.schema_name, EventKind.ASSIGNED),
        (alpha.schema_name, EventKind.COMMENTED),
    ]
    assert {request_id for _s, _k, request_id, _d in heard} == {request.pk}
    assert heard[1][3] == {
        "from_status": "new",
        "to_status": "triaged",
        "by": manager.email,
        "note": "ok",
    }
    assert heard[3][3] == {"assignee": tech.email, "by": manager.email}
    assert heard[4][3]["body"] == "On my way"


def test_a_rolled_back_change_announces_nothing(
    alpha, staff, heard, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        request_create(title="Leak", requester=staff[BuiltinRole.REQUESTER])
        raise RuntimeError
    assert heard == []
