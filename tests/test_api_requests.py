"""
The requests REST API (issue 5): /api/v1/requests/ and what hangs under it,
/api/v1/attachments/. Visibility by role, the services' rules as API errors,
filters, the plan limit, tenant isolation and the number of queries a list costs.
"""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.client import MULTIPART_CONTENT
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from accounts.roles import BuiltinRole
from accounts.services import user_trades_set
from assets.models import Asset
from assets.services import asset_create, location_create
from attachments.models import Attachment
from requests_app import services
from requests_app.api.views import RequestViewSet
from requests_app.models import (
    ElectricalDetails,
    HvacDetails,
    MaintenanceRequest,
    PlumbingDetails,
    RequestChange,
    RequestComment,
    RequestTransition,
    Status,
)
from tenants.services import tenant_update
from tests.conftest import APIClient

URL = "/api/v1/requests/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def people(alpha, api_for):
    """A lead (admin), a requester, another requester and an electrician, each with a key."""
    lead, lead_user, _ = api_for(alpha)
    requester, requester_user, _ = api_for(alpha, role=BuiltinRole.REQUESTER)
    other, other_user, _ = api_for(alpha, role=BuiltinRole.REQUESTER)
    tech, tech_user, _ = api_for(alpha, role=BuiltinRole.TECHNICIAN)
    with tenant_context(alpha):  # whichever tenant fixture the test entered last
        user_trades_set(user=tech_user, trades=["electrical"])
    return {
        "lead": (lead, lead_user),
        "requester": (requester, requester_user),
        "other": (other, other_user),
        "tech": (tech, tech_user),
    }


def file_request(user, title="Broken light", **fields):
    return services.request_create(title=title, requester=user, **fields)


def titles(response):
    assert response.status_code == 200, response.content
    return sorted(row["title"] for row in response.json()["results"])


# --- Reading --------------------------------------------------------------------


def test_list_and_retrieve_show_the_whole_request(people):
    lead, lead_user = people["lead"]
    site = location_create(name="HQ", kind="site")
    asset = asset_create(name="Panel B", asset_tag="PB-1", location=site)
    made = file_request(
        lead_user,
        type="electrical",
        priority="high",
        asset=asset,
        details={"voltage": 230, "circuit": "B7", "hazard_present": True},
    )
    body = lead.get(URL).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["id"] == made.pk and row["number"] == made.number
    assert row["reference"] == f"REQ-{made.number:06d}"
    assert row["requester"] == {"id": lead_user.pk, "email": lead_user.email, "full_name": ""}
    assert row["asset"] == {"id": asset.pk, "name": "Panel B", "asset_tag": "PB-1"}
    assert row["location"] == {"id": site.pk, "name": "HQ"}
    assert row["details"] == {"voltage": 230, "circuit": "B7", "hazard_present": True}
    assert row["assignee"] is None and row["status"] == "new"
    assert row["due_at"].endswith("Z") and row["triaged_at"] is None
    assert "allowed_transitions" not in row

    detail = lead.get(f"{URL}{made.pk}/").json()
    assert detail["allowed_transitions"] == ["triaged", "cancelled"]
    assert {key: value for key, value in detail.items() if key != "allowed_transitions"} == row


def test_typed_details_and_general_requests(people):
    lead, lead_user = people["lead"]
    file_request(lead_user, "Leak", type="plumbing", details={"leak_severity": "drip"})
    file_request(lead_user, "Cold", type="hvac", details={"reported_temperature": "12.5"})
    file_request(lead_user, "Door", type="general")
    rows = {row["title"]: row["details"] for row in lead.get(URL).json()["results"]}
    assert rows["Leak"] == {"leak_severity": "drip", "water_shutoff_needed": False, "fixture": ""}
    assert rows["Cold"] == {
        "system_type": "other",
        "reported_temperature": "12.5",
        "refrigerant_involved": False,
    }
    assert rows["Door"] is None


def test_visibility_by_role(people):
    lead, lead_user = people["lead"]
    requester, requester_user = people["requester"]
    other, other_user = people["other"]
    tech, tech_user = people["tech"]
    mine = file_request(requester_user, "Mine", type="electrical")
    file_request(other_user, "Theirs plumbing", type="plumbing")
    file_request(other_user, "Theirs electrical", type="electrical")

    assert titles(lead.get(URL)) == ["Mine", "Theirs electrical", "Theirs plumbing"]
    assert titles(requester.get(URL)) == ["Mine"]
    assert titles(other.get(URL)) == ["Theirs electrical", "Theirs plumbing"]
    # Unassigned requests of the technician's trade only.
    assert titles(tech.get(URL)) == ["Mine", "Theirs electrical"]

    assert other.get(f"{URL}{mine.pk}/").status_code == 404
    assert other.get(f"{URL}{mine.pk}/").json()["code"] == "not_found"
    assert requester.get(f"{URL}{mine.pk}/").status_code == 200
    # Assigned to someone: the technician sees it only when it is theirs.
    services.request_transition(request=mine, to_status="triaged", by=lead_user)
    services.request_transition(
        request=mine, to_status="assigned", by=lead_user, assignee=tech_user
    )
    assert tech.get(f"{URL}{mine.pk}/").status_code == 200


# --- Writing --------------------------------------------------------------------


def test_create_files_a_numbered_request(people):
    requester, requester_user = people["requester"]
    asset = asset_create(name="Boiler", asset_tag="B-1")
    response = requester.post(
        URL,
        {
            "title": "No hot water",
            "type": "hvac",
            "priority": "urgent",
            "asset": asset.pk,
            "details": {"system_type": "boiler", "reported_temperature": "15.0"},
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "new" and body["requester"]["id"] == requester_user.pk
    assert body["details"]["system_type"] == "boiler"
    assert body["allowed_transitions"] == ["cancelled"]
    made = MaintenanceRequest.objects.get(pk=body["id"])
    assert made.hvac.reported_temperature == 15 and made.asset == asset
    assert made.transitions.get().to_status == Status.NEW


def test_technicians_may_not_file(people):
    tech, _ = people["tech"]
    response = tech.post(URL, {"title": "x"})
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert not MaintenanceRequest.objects.exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"description": "no title"}, {"title"}),
        ({"title": "x", "type": "magic"}, {"type"}),
        ({"title": "x", "priority": "whenever"}, {"priority"}),
        ({"title": "x", "type": "electrical", "details": {"voltage": "high"}}, {"details.voltage"}),
        ({"title": "x", "type": "electrical", "details": {"colour": "red"}}, {"details.colour"}),
        ({"title": "x", "type": "electrical", "details": {"voltage": 2.5}}, {"details.voltage"}),
        (
            {"title": "x", "type": "plumbing", "details": {"leak_severity": "x"}},
            {"details.leak_severity"},
        ),
        ({"title": "x", "type": "general", "details": {"voltage": 1}}, {"details"}),
        ({"title": "x", "asset": 999999}, {"asset"}),
        ({"title": "x", "location": 999999}, {"location"}),
    ],
)
def test_create_refuses_bad_input_field_by_field(people, body, fields):
    requester, _ = people["requester"]
    response = requester.post(URL, body)
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid" and set(error["fields"]) == fields, error
    assert not MaintenanceRequest.objects.exists()


def test_the_monthly_plan_limit_is_403(alpha, people):
    requester, requester_user = people["requester"]
    file_request(requester_user)
    with schema_context(get_public_schema_name()):
        tenant_update(tenant=alpha, actor="test", max_requests_per_month=1)
    response = requester.post(URL, {"title": "One too many"})
    assert (response.status_code, response.json()["code"]) == (403, "plan_limit_reached")
    assert MaintenanceRequest.objects.count() == 1


def test_patch_goes_through_the_service(people):
    lead, lead_user = people["lead"]
    requester, requester_user = people["requester"]
    made = file_request(requester_user, priority="low")
    response = requester.patch(f"{URL}{made.pk}/", {"title": "Broken lamp", "priority": "high"})
    assert response.status_code == 200, response.json()
    assert response.json()["title"] == "Broken lamp"
    made.refresh_from_db()
    assert made.priority == "high" and made.due_at == made.created + timedelta(hours=24)
    assert set(RequestChange.objects.filter(request=made).values_list("field", flat=True)) == {
        "title",
        "priority",
        "due_at",
    }
    # Once triaged, only a lead may edit it.
    services.request_transition(request=made, to_status="triaged", by=lead_user)
    response = requester.patch(f"{URL}{made.pk}/", {"title": "Again"})
    assert (response.status_code, response.json()["code"]) == (403, "edit_forbidden")
    assert lead.patch(f"{URL}{made.pk}/", {"title": "Again"}).status_code == 200
    response = lead.patch(f"{URL}{made.pk}/", {"asset": 424242})
    assert (response.status_code, set(response.json()["fields"])) == (400, {"asset"})
    assert lead.put(f"{URL}{made.pk}/", {"title": "x"}).status_code == 405


def test_patch_changes_the_details_given_and_keeps_the_others(people):
    lead, lead_user = people["lead"]
    made = services.request_create(
        requester=lead_user,
        title="Sparks",
        type="electrical",
        details={"voltage": 230, "circuit": "B7"},
    )
    url = f"{URL}{made.pk}/"

    response = lead.patch(url, {"details": {"circuit": "C2"}})

    assert response.status_code == 200, response.json()
    assert response.json()["details"]["voltage"] == 230
    assert response.json()["details"]["circuit"] == "C2"
    assert RequestChange.objects.filter(request=made, field="details.circuit").exists()
    for body, fields in [
        ({"details": {"voltage": "high"}, "title": "Changed"}, {"details.voltage"}),
        ({"details": {"colour": "red"}}, {"details.colour"}),
        ({"details": ["circuit"]}, {"details"}),
    ]:
        response = lead.patch(url, body)
        assert (response.status_code, set(response.json()["fields"])) == (400, fields)
    made.refresh_from_db()
    assert (made.title, made.details.voltage, made.details.circuit) == ("Sparks", 230, "C2")
    general = services.request_create(requester=lead_user, title="Door")
    response = lead.patch(f"{URL}{general.pk}/", {"details": {"voltage": 1}})
    assert (response.status_code, set(response.json()["fields"])) == (400, {"details"})


def test_a_read_only_key_cannot_write(alpha, api_for, people):
    client, _user, _ = api_for(alpha, access="read_only")
    assert client.get(URL).status_code == 200
    assert client.post(URL, {"title": "x"}).status_code == 403


# --- Transitions ----------------------------------------------------------------


def test_transitions_follow_the_workflow(people):
    lead, _lead_user = people["lead"]
    requester, requester_user = people["requester"]
    tech, tech_user = people["tech"]
    made = file_request(requester_user, type="electrical")
    url = f"{URL}{made.pk}/transition/"

    response = lead.post(url, {"to": "triaged", "note": "Seen"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "triaged"

    response = lead.post(url, {"to": "assigned"})
    assert (response.status_code, response.json()["code"]) == (400, "assignee_required")
    response = lead.post(url, {"to": "assigned", "assignee": requester_user.pk})
    assert (response.status_code, response.json()["code"]) == (400, "invalid_assignee")
    response = lead.post(url, {"to": "assigned", "assignee": 987654})
    assert (response.status_code, set(response.json()["fields"])) == (400, {"assignee"})
    response = lead.post(url, {"to": "assigned", "assignee": tech_user.pk})
    assert response.status_code == 200
    assert response.json()["assignee"]["id"] == tech_user.pk
    assert response.json()["allowed_transitions"] == ["assigned", "cancelled"]

    response = requester.post(url, {"to": "in_progress"})
    assert (response.status_code, response.json()["code"]) == (403, "transition_forbidden")
    response = tech.post(url, {"to": "closed"})
    assert (response.status_code, response.json()["code"]) == (400, "transition_not_allowed")
    response = tech.post(url, {"to": "sideways"})
    assert (response.status_code, set(response.json()["fields"])) == (400, {"to"})
    response = tech.post(url, {"to": "in_progress"})
    assert response.json()["status"] == "in_progress"
    assert response.json()["started_at"] is not None

    made.refresh_from_db()
    assert made.status == "in_progress"
    assert list(made.transitions.values_list("to_status", flat=True)) == [
        "new",
        "triaged",
        "assigned",
        "in_progress",
    ]


def test_transition_of_an_invisible_request_is_404(people):
    other, _ = people["other"]
    _, requester_user = people["requester"]
    made = file_request(requester_user)
    response = other.post(f"{URL}{made.pk}/transition/", {"to": "cancelled"})
    assert response.status_code == 404
    made.refresh_from_db()
    assert made.status == "new"


# --- Comments, attachments, history ----------------------------------------------


def test_comments(people):
    requester, requester_user = people["requester"]
    other, _ = people["other"]
    made = file_request(requester_user)
    url = f"{URL}{made.pk}/comments/"
    response = requester.post(url, {"body": "  Still broken.  "})
    assert response.status_code == 201, response.json()
    assert response.json()["body"] == "Still broken."
    assert response.json()["author"]["email"] == requester_user.email
    response = requester.post(url, {"body": ""})
    assert (response.status_code, set(response.json()["fields"])) == (400, {"body"})
    body = requester.get(url).json()
    assert [comment["body"] for comment in body["results"]] == ["Still broken."]
    assert other.get(url).status_code == 404
    assert other.post(url, {"body": "hi"}).status_code == 404
    assert RequestComment.objects.count() == 1


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_attachments_upload_list_download_delete(people, media):
    requester, requester_user = people["requester"]
    other, _ = people["other"]
    lead, _ = people["lead"]
    made = file_request(requester_user)
    url = f"{URL}{made.pk}/attachments/"
    upload = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
    response = requester.post(url, {"file": upload}, content_type=MULTIPART_CONTENT)
    assert response.status_code == 201, response.json()
    attachment = response.json()
    assert (attachment["original_name"], attachment["content_type"]) == ("photo.png", "image/png")

    fake = SimpleUploadedFile("evil.png", b"<html>hi</html>", content_type="image/png")
    response = requester.post(url, {"file": fake}, content_type=MULTIPART_CONTENT)
    assert (response.status_code, response.json()["code"]) == (400, "file_type_mismatch")
    response = requester.post(url, {}, content_type=MULTIPART_CONTENT)
    assert (response.status_code, set(response.json()["fields"])) == (400, {"file"})

    assert [row["id"] for row in requester.get(url).json()["results"]] == [attachment["id"]]
    download = requester.get(attachment["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Disposition"].startswith("attachment;")

    # Someone who cannot see the request sees neither the list nor the file.
    assert other.get(url).status_code == 404
    assert other.get(attachment["download_url"]).status_code == 404
    assert other.delete(f"/api/v1/attachments/{attachment['id']}/").status_code == 404
    assert other.post(url, {"file": upload}, content_type=MULTIPART_CONTENT).status_code == 404

    # A lead who did not upload it may delete it too.
    response = lead.delete(f"/api/v1/attachments/{attachment['id']}/")
    assert response.status_code == 204
    assert not Attachment.objects.exists()


def test_only_the_uploader_or_a_lead_deletes_an_attachment(people, media):
    requester, requester_user = people["requester"]
    tech, _ = people["tech"]
    made = file_request(requester_user, type="electrical")  # the electrician sees it
    upload = SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")
    response = requester.post(
        f"{URL}{made.pk}/attachments/", {"file": upload}, content_type=MULTIPART_CONTENT
    )
    attachment_id = response.json()["id"]
    response = tech.delete(f"/api/v1/attachments/{attachment_id}/")
    assert (response.status_code, response.json()["code"]) == (
        403,
        "attachment_delete_forbidden",
    )
    assert requester.delete(f"/api/v1/attachments/{attachment_id}/").status_code == 204


def test_history_lists_transitions_and_changes(people):
    _lead, lead_user = people["lead"]
    requester, requester_user = people["requester"]
    made = file_request(requester_user)
    services.request_update(request=made, by=requester_user, title="Changed")
    services.request_transition(
        request=made, to_status="triaged", by=lead_user, note="Looked at it"
    )
    rows = requester.get(f"{URL}{made.pk}/history/").json()["results"]
    assert [(row["kind"], row.get("to_status") or row.get("field")) for row in rows] == [
        ("transition", "new"),
        ("change", "title"),
        ("transition", "triaged"),
        ("change", "status"),
    ]
    assert rows[2]["note"] == "Looked at it" and rows[2]["by"]["id"] == lead_user.pk
    assert rows[1]["old_value"] == "Broken light" and rows[1]["new_value"] == "Changed"
    assert people["other"][0].get(f"{URL}{made.pk}/history/").status_code == 404


# --- Filters, search, ordering -----------------------------------------------------


def test_filters(people):
    lead, lead_user = people["lead"]
    _, tech_user = people["tech"]
    site = location_create(name="Site", kind="site")
    building = location_create(name="Block A", kind="building", parent=site)
    elsewhere = location_create(name="Other site", kind="site")
    asset = asset_create(name="Pump", asset_tag="P-1")
    a = file_request(lead_user, "Alpha one", type="electrical", priority="urgent", location=site)
    b = file_request(lead_user, "Bravo two", type="plumbing", location=building, asset=asset)
    file_request(lead_user, "Charlie three", type="general", location=elsewhere)
    services.request_transition(request=a, to_status="triaged", by=lead_user)
    services.request_transition(request=a, to_status="assigned", by=lead_user, assignee=tech_user)
    MaintenanceRequest.objects.filter(pk=b.pk).update(due_at=timezone.now() - timedelta(1))

    def get(query):
        return titles(lead.get(f"{URL}?{query}"))

    assert get("status=new") == ["Bravo two", "Charlie three"]
    assert get("status=new&status=assigned") == ["Alpha one", "Bravo two", "Charlie three"]
    assert get("type=plumbing") == ["Bravo two"]
    assert get("priority=urgent") == ["Alpha one"]
    assert get(f"assignee={tech_user.pk}") == ["Alpha one"]
    assert get(f"asset={asset.pk}") == ["Bravo two"]
    assert get(f"location={site.pk}") == ["Alpha one", "Bravo two"]  # with Block A
    assert get(f"location={building.pk}") == ["Bravo two"]
    assert get("overdue=true") == ["Bravo two"]
    assert get("overdue=false") == ["Alpha one", "Charlie three"]
    assert get("created_after=2000-01-01T00:00:00Z") == ["Alpha one", "Bravo two", "Charlie three"]
    assert get("created_before=2000-01-01T00:00:00Z") == []
    # Offsets PostgreSQL would refuse (it stops at ±15:59) are read, in UTC.
    assert get("created_after=2000-01-02T22:32:10%2B16:42") == [
        "Alpha one",
        "Bravo two",
        "Charlie three",
    ]
    assert get("due_before=" + timezone.now().isoformat().replace("+", "%2B")) == ["Bravo two"]
    assert get("search=bravo") == ["Bravo two"]
    assert get(f"search=REQ-{a.number:06d}") == ["Alpha one"]
    assert get(f"search={b.number}") == ["Bravo two"]

    def order(query):
        return [row["title"] for row in lead.get(f"{URL}?ordering={query}").json()["results"]]

    assert order("number") == ["Alpha one", "Bravo two", "Charlie three"]
    assert order("-number") == ["Charlie three", "Bravo two", "Alpha one"]
    assert order("-priority,number") == ["Alpha one", "Bravo two", "Charlie three"]
    assert order("priority")[-1] == "Alpha one"
    assert order("status")[0] == "Alpha one"  # assigned < new


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=bogus", "status"),
        ("type=bogus", "type"),
        ("priority=1", "priority"),
        ("assignee=abc", "assignee"),
        ("asset=abc", "asset"),
        ("location=999999", "location"),
        ("location=abc", "location"),
        ("created_after=yesterday", "created_after"),
        ("due_before=2024-13-45", "due_before"),
        ("due_after=0001-01-01T00:00:00%2B16:00", "due_after"),
        ("overdue=perhaps", "overdue"),
    ],
)
def test_bad_filter_values_are_400(people, query, field):
    lead, _ = people["lead"]
    response = lead.get(f"{URL}?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and set(body["fields"]) == {field}, body


def test_bad_page_and_page_size(people):
    lead, lead_user = people["lead"]
    file_request(lead_user)
    assert lead.get(f"{URL}?page=9").status_code == 404
    assert lead.get(f"{URL}?page_size=abc").status_code == 200  # DRF falls back to 50


# --- Tenants ---------------------------------------------------------------------


def test_another_tenants_key_is_401_everywhere(alpha, beta, api_for, people, media):
    _, requester_user = people["requester"]
    with tenant_context(alpha):
        made = file_request(requester_user)
    alpha_header = people["requester"][0].defaults["HTTP_AUTHORIZATION"]
    api_for(beta)
    with tenant_context(beta):
        stranger = APIClient(beta)
        stranger.defaults["HTTP_AUTHORIZATION"] = alpha_header
        calls = [
            ("get", URL),
            ("post", URL),
            ("get", f"{URL}{made.pk}/"),
            ("patch", f"{URL}{made.pk}/"),
            ("post", f"{URL}{made.pk}/transition/"),
            ("get", f"{URL}{made.pk}/comments/"),
            ("post", f"{URL}{made.pk}/comments/"),
            ("get", f"{URL}{made.pk}/attachments/"),
            ("post", f"{URL}{made.pk}/attachments/"),
            ("get", f"{URL}{made.pk}/history/"),
            ("get", "/api/v1/attachments/1/download/"),
            ("delete", "/api/v1/attachments/1/"),
        ]
        # An address per call: five wrong keys from one address lock it out (429).
        for number, (method, path) in enumerate(calls):
            response = getattr(stranger, method)(path, REMOTE_ADDR=f"10.0.0.{number + 1}")
            assert response.status_code == 401, (method, path)
            assert response.json()["code"] == "invalid_key"


def test_ids_of_another_tenant_never_reach_its_rows(alpha, beta, api_for, media):
    """Ids overlap across schemas: beta's client must only ever serve beta's own rows."""
    alpha_client, alpha_user, _ = api_for(alpha)
    beta_client, beta_user, _ = api_for(beta)
    with tenant_context(alpha):
        secrets = [file_request(alpha_user, f"ALPHA SECRET {index}") for index in range(3)]
        services.request_comment_create(request=secrets[0], author=alpha_user, body="alpha words")
        upload = SimpleUploadedFile("alpha.txt", b"alpha file", content_type="text/plain")
        alpha_file = alpha_client.post(
            f"{URL}{secrets[0].pk}/attachments/", {"file": upload}, content_type=MULTIPART_CONTENT
        ).json()
    with tenant_context(beta):
        own = file_request(beta_user, "Beta own")
        # Give beta's row the id of alpha's first one, whatever the sequences say.
        MaintenanceRequest.objects.filter(pk=own.pk).update(id=secrets[0].pk)
        RequestTransition.objects.filter(request_id=own.pk).update(request_id=secrets[0].pk)
        own = MaintenanceRequest.objects.get(pk=secrets[0].pk)
    seen = []
    for request in secrets:
        for path in ("", "comments/", "attachments/", "history/"):
            response = beta_client.get(f"{URL}{request.pk}/{path}")
            assert response.status_code in (200, 404)
            seen.append(response.content)
        response = beta_client.patch(f"{URL}{request.pk}/", {"title": "hijacked"})
        assert response.status_code in (200, 404)
        seen.append(response.content)
    response = beta_client.get(f"/api/v1/attachments/{alpha_file['id']}/download/")
    assert response.status_code == 404
    everything = b" ".join(seen) + beta_client.get(URL).content
    assert b"ALPHA" not in everything and b"alpha" not in everything
    # The id matched beta's own row: that one (and only that one) was served and changed.
    assert [row["title"] for row in beta_client.get(URL).json()["results"]] == ["hijacked"]
    with tenant_context(beta):
        assert MaintenanceRequest.objects.get(pk=own.pk).number == own.number
    with tenant_context(alpha):
        assert sorted(MaintenanceRequest.objects.values_list("title", flat=True)) == [
            f"ALPHA SECRET {index}" for index in range(3)
        ]
        assert Attachment.objects.get().original_name == "alpha.txt"


# --- Query counts ------------------------------------------------------------------


def bulk_requests(user, count, tech=None, asset=None, location=None):
    """``count`` requests of every type, with details, without the services' cost."""
    now = timezone.now()
    types = ["electrical", "plumbing", "hvac", "general"]
    rows = MaintenanceRequest.objects.bulk_create(
        MaintenanceRequest(
            number=10_000 + index,
            title=f"Bulk {index}",
            type=types[index % 4],
            requester=user,
            assignee=tech if index % 2 else None,
            status="assigned" if index % 2 else "new",
            asset=asset,
            location=location,
            due_at=now,
            created=now - timedelta(minutes=index),
        )
        for index in range(count)
    )
    ElectricalDetails.objects.bulk_create(
        ElectricalDetails(request=row, voltage=230) for row in rows if row.type == "electrical"
    )
    PlumbingDetails.objects.bulk_create(
        PlumbingDetails(request=row) for row in rows if row.type == "plumbing"
    )
    HvacDetails.objects.bulk_create(HvacDetails(request=row) for row in rows if row.type == "hvac")
    return rows


def requests_on_a_pump(people, count):
    """``count`` requests filed by the requester on one asset, some assigned to the technician."""
    _, tech_user = people["tech"]
    _, requester_user = people["requester"]
    site = location_create(name="Site", kind="site")
    asset = Asset.objects.create(name="Pump", asset_tag="P-9", location=site)
    bulk_requests(requester_user, count, tech=tech_user, asset=asset, location=site)


def queries_for(client, url):
    # Once unmeasured: the first call of a key also stamps its last use.
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured), response.json()


@pytest.mark.parametrize("role", ["lead", "tech", "requester"])
def test_request_list_queries_do_not_grow_with_the_page(people, role):
    client, _user = people[role]
    requests_on_a_pump(people, 120)
    small, body = queries_for(client, f"{URL}?page_size=5")
    assert len(body["results"]) == 5
    large, body = queries_for(client, f"{URL}?page_size=50")
    assert len(body["results"]) == 50
    assert small == large, (small, large)


@pytest.mark.parametrize(("role", "expected"), [("lead", 3), ("requester", 3), ("tech", 4)])
def test_request_list_query_count(people, role, expected):
    """
    A list call costs the address's lockout check, the key with its user
    and that user's permissions (accounts.backends), a technician's trades,
    and the page with its COUNT (one statement: views.CountedRows), see
    bench/api.py. Reading the permissions in a query of their own again (or
    in two, as Django's ModelBackend does), or the COUNT apart, fails this.
    """
    client, _user = people[role]
    _, requester_user = people["requester"]
    file_request(requester_user, type="electrical")  # the technician's trade
    assert client.get(URL).status_code == 200  # stamps the key's last use
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL)
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 1
    # Host routing's (tenants/routing.py) are not the list's.
    statements = [
        query["sql"]
        for query in captured
        if not query["sql"].startswith("SET ") and '"tenants_' not in query["sql"]
    ]
    assert len(statements) == expected, "\n".join(statements)
    assert sum("auth_permission" in sql for sql in statements) == 1, "\n".join(statements)
    assert "accounts_apikey" in next(sql for sql in statements if "auth_permission" in sql)
    assert sum("COUNT(*)" in sql for sql in statements) == 1, "\n".join(statements)
    assert "LIMIT" in next(sql for sql in statements if "COUNT(*)" in sql)


PAGES = [
    "",
    "page=1",
    "page_size=7",
    "page=2&page_size=7",
    "page=3&page_size=7",  # the last one, not full
    "page=last&page_size=7",
    "page=4&page_size=7",  # past the end: 404
    "page=0",
    "page=-1",
    "page=abc",
    "page=2.0&page_size=7",
    "page=%C2%B2",  # a superscript two: a digit to str.isdigit(), not to int()
    "page=%D9%A3&page_size=7",  # an Arabic-Indic three: 3 to int() and float()
    "page=999999",
    "page=1000000",
    "page=99999999999999999999999",  # an OFFSET past PostgreSQL's bigint
    "page_size=abc",
    "page_size=500",
    "status=new&page=2&page_size=3",
    "status=closed",  # nothing: count 0
    "status=closed&page=2",
    "ordering=-priority&page=2&page_size=4",
    "ordering=due_at&page_size=6",
]


@pytest.mark.parametrize("role", ["lead", "tech", "requester", "other"])
def test_a_page_counted_in_its_own_statement_answers_as_a_separate_count(people, role, monkeypatch):
    """Every answer of the list, byte for byte, as when the COUNT is a query of its own."""
    client, _user = people[role]
    requests_on_a_pump(people, 17)
    answers = {}
    for query in PAGES:
        response = client.get(f"{URL}?{query}")
        answers[query] = (response.status_code, response.content)
    monkeypatch.setattr(RequestViewSet, "_page_slice", lambda self: None)
    for query in PAGES:
        response = client.get(f"{URL}?{query}")
        assert answers[query] == (response.status_code, response.content), query
    if role == "requester":
        assert answers["page=3&page_size=7"][0] == 200
        assert b'"count":17' in answers["page=3&page_size=7"][1]
        assert answers["page=4&page_size=7"][0] == 404
        assert b'"count":0,' in answers["status=closed"][1]


def test_child_lists_queries_do_not_grow_with_the_page(people):
    lead, _lead_user = people["lead"]
    _, requester_user = people["requester"]
    made = file_request(requester_user)
    other_people = [people[name][1] for name in ("lead", "requester", "other", "tech")]
    RequestComment.objects.bulk_create(
        RequestComment(request=made, author=other_people[index % 4], body=f"c{index}")
        for index in range(60)
    )
    Attachment.objects.bulk_create(
        Attachment(
            request=made,
            uploaded_by=other_people[index % 4],
            file=f"attachments/x{index}.txt",
            original_name=f"x{index}.txt",
            content_type="text/plain",
            size=1,
        )
        for index in range(60)
    )
    now = timezone.now()
    RequestTransition.objects.bulk_create(
        RequestTransition(request=made, to_status="new", by=other_people[index % 4], at=now)
        for index in range(30)
    )
    RequestChange.objects.bulk_create(
        RequestChange(request=made, field="title", by=other_people[index % 4], at=now)
        for index in range(30)
    )
    for child in ("comments", "attachments", "history"):
        url = f"{URL}{made.pk}/{child}/"
        small, body = queries_for(lead, f"{url}?page_size=5")
        assert len(body["results"]) == 5
        large, body = queries_for(lead, f"{url}?page_size=50")
        assert len(body["results"]) == 50
        assert small == large, (child, small, large)
