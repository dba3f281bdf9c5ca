"""The staff pages for requests."""

import pytest

from accounts.roles import BuiltinRole
from requests_app.models import MaintenanceRequest, RequestComment


@pytest.fixture
def people(alpha, make_people):
    return make_people(
        alpha,
        manager=BuiltinRole.MANAGER,
        tech=BuiltinRole.TECHNICIAN,
        ann=BuiltinRole.REQUESTER,
        bob=BuiltinRole.REQUESTER,
    )


def test_a_requester_files_a_request_and_a_manager_moves_it_on(alpha, alpha_client, people):
    alpha_client.force_login(people["ann"])
    response = alpha_client.post(
        "/requests/new/",
        {"title": "Dripping tap", "description": "Kitchen", "type": "plumbing", "priority": "low"},
        follow=True,
    )
    request = MaintenanceRequest.objects.get()
    assert (request.title, request.requester, request.type) == (
        "Dripping tap",
        people["ann"],
        "plumbing",
    )
    assert "REQ-000001 filed." in response.content.decode()
    assert "REQ-000001 Dripping tap" in response.content.decode()
    # The requester may cancel a new request, not triage it.
    page = alpha_client.get(f"/requests/{request.pk}/").content.decode()
    assert ">Cancel</button>" in page and ">Triage</button>" not in page
    assert "Dripping tap" in alpha_client.get("/requests/").content.decode()

    alpha_client.force_login(people["manager"])
    page = alpha_client.get(f"/requests/{request.pk}/").content.decode()
    assert ">Triage</button>" in page
    alpha_client.post(f"/requests/{request.pk}/transition/", {"to_status": "triaged", "note": "ok"})
    alpha_client.post(
        f"/requests/{request.pk}/transition/",
        {"to_status": "assigned", "assignee": people["tech"].pk},
    )
    request.refresh_from_db()
    assert (request.status, request.assignee) == ("assigned", people["tech"])

    alpha_client.post(f"/requests/{request.pk}/comment/", {"body": "Parts ordered"})
    assert list(RequestComment.objects.values_list("body", flat=True)) == ["Parts ordered"]
    page = alpha_client.get(f"/requests/{request.pk}/").content.decode()
    assert "Parts ordered" in page and "Triaged → Assigned" in page


def test_a_refused_transition_is_reported_and_changes_nothing(alpha, alpha_client, people):
    from requests_app.services import request_create

    request = request_create(title="Leak", requester=people["ann"])
    alpha_client.force_login(people["ann"])
    response = alpha_client.post(
        f"/requests/{request.pk}/transition/", {"to_status": "triaged"}, follow=True
    )
    assert "You may not move this request" in response.content.decode()
    request.refresh_from_db()
    assert request.status == "new"


def test_requests_out_of_sight_are_not_found(alpha, alpha_client, people):
    from requests_app.services import request_create

    request = request_create(title="Ann's leak", requester=people["ann"])
    alpha_client.force_login(people["bob"])
    assert "Ann&#x27;s leak" not in alpha_client.get("/requests/").content.decode()
    assert alpha_client.get(f"/requests/{request.pk}/").status_code == 404
    assert alpha_client.post(f"/requests/{request.pk}/comment/", {"body": "x"}).status_code == 404
    assert not RequestComment.objects.exists()
