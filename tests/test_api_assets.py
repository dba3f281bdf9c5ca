"""
The assets REST API (issue 5): locations, assets with their history and
attachments, preventive-maintenance schedules; roles, plan rules, tenant
isolation and query counts.
"""

from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.client import MULTIPART_CONTENT
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from accounts.roles import BuiltinRole
from assets import services
from assets.models import Asset, AssetChange, Location, path_segment
from attachments.models import Attachment
from billing.services import tenant_change_plan
from preventive import selectors as preventive_selectors
from preventive import services as preventive_services
from preventive.models import ChecklistStep, MaintenanceSchedule
from tenants.services import tenant_update
from tests.conftest import APIClient

TEXT = b"Serviced the pump.\n"


@pytest.fixture
def media_root(settings, tmp_path):
    """A MEDIA_ROOT of the test's own, so nothing lands in .data/media."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
    return Path(settings.MEDIA_ROOT)


def site(name="HQ"):
    return services.location_create(name=name, kind=Location.Kind.SITE)


def asset(name, tag, **fields):
    return services.asset_create(name=name, asset_tag=tag, **fields)


def upload(client, asset_id, name="note.txt", content=TEXT):
    return client.post(
        f"/api/v1/assets/{asset_id}/attachments/",
        {"file": SimpleUploadedFile(name, content)},
        content_type=MULTIPART_CONTENT,
    )


def set_tenant(tenant, **fields):
    with schema_context(get_public_schema_name()):
        tenant_update(tenant=tenant, actor="test", **fields)
    tenant.refresh_from_db()


# --- Locations -----------------------------------------------------------------------


def test_locations_create_list_retrieve_patch(alpha, api_for):
    client, _user, _key = api_for(alpha, role=BuiltinRole.MANAGER)
    made = client.post("/api/v1/locations/", {"name": "HQ", "kind": "site", "address": "1 Road"})
    assert made.status_code == 201, made.json()
    hq = made.json()
    assert (hq["parent"], hq["path"], hq["depth"], hq["address"]) == (None, ["HQ"], 0, "1 Road")
    building = client.post(
        "/api/v1/locations/", {"name": "Block A", "kind": "building", "parent": hq["id"]}
    ).json()
    floor = client.post(
        "/api/v1/locations/", {"name": "Floor 1", "kind": "floor", "parent": building["id"]}
    ).json()
    assert floor["path"] == ["HQ", "Block A", "Floor 1"]

    listed = client.get("/api/v1/locations/").json()
    assert [row["name"] for row in listed["results"]] == ["HQ", "Block A", "Floor 1"]
    assert listed["results"][2]["path"] == ["HQ", "Block A", "Floor 1"]

    renamed = client.patch(f"/api/v1/locations/{building['id']}/", {"name": "Block B"})
    assert renamed.status_code == 200
    assert client.get(f"/api/v1/locations/{floor['id']}/").json()["path"] == [
        "HQ",
        "Block B",
        "Floor 1",
    ]
    # Filters: the children of one location.
    children = client.get(f"/api/v1/locations/?parent={hq['id']}").json()["results"]
    assert [row["name"] for row in children] == ["Block B"]
    # No PUT, no DELETE: locations are not deleted.
    assert client.put(f"/api/v1/locations/{hq['id']}/", {}).status_code == 405
    assert client.delete(f"/api/v1/locations/{hq['id']}/").status_code == 405


def test_location_rules_are_400s_naming_the_field(alpha, api_for):
    client, _user, _key = api_for(alpha)
    hq = site()
    response = client.post("/api/v1/locations/", {"name": "Lost", "kind": "building"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"parent"}
    response = client.post(
        "/api/v1/locations/", {"name": "Ghost", "kind": "room", "parent": 987654}
    )
    assert (response.status_code, list(response.json()["fields"])) == (400, ["parent"])
    response = client.post("/api/v1/locations/", {"name": "X", "kind": "castle"})
    assert (response.status_code, list(response.json()["fields"])) == (400, ["kind"])
    response = client.post("/api/v1/locations/", {"name": "HQ", "kind": "site"})
    assert response.status_code == 400  # the name is taken at the top level
    # A site cannot be moved into a building of its own tree.
    building = services.location_create(name="B", kind="building", parent=hq)
    response = client.patch(f"/api/v1/locations/{hq.pk}/", {"parent": building.pk})
    assert (response.status_code, list(response.json()["fields"])) == (400, ["parent"])


def test_location_permissions(alpha, api_for):
    hq = site()
    for role in (BuiltinRole.REQUESTER, BuiltinRole.TECHNICIAN):
        client, _user, _key = api_for(alpha, role=role)
        assert client.get("/api/v1/locations/").status_code == 200
        assert client.get(f"/api/v1/locations/{hq.pk}/").status_code == 200
        refused = client.post("/api/v1/locations/", {"name": "New", "kind": "site"})
        assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
        refused = client.patch(f"/api/v1/locations/{hq.pk}/", {"name": "Mine"})
        assert refused.status_code == 403
    hq.refresh_from_db()
    assert hq.name == "HQ"


# --- Assets ----------------------------------------------------------------------------


def test_a_manager_creates_an_asset_and_sees_all_of_it(alpha, api_for):
    client, manager, _key = api_for(alpha, role=BuiltinRole.MANAGER)
    hq = site()
    response = client.post(
        "/api/v1/assets/",
        {
            "name": "Boiler",
            "asset_tag": "B-1",
            "category": "HVAC",
            "location": hq.pk,
            "manufacturer": "Acme",
            "model": "X1",
            "serial_number": "SN-42",
            "install_date": "2024-01-01",
            "warranty_expiry": "2027-01-01",
            "notes": "Basement",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    stored = Asset.objects.get(pk=body["id"])
    assert body["location"] == {"id": hq.pk, "name": "HQ"}
    assert (body["status"], body["serial_number"], body["warranty_expiry"]) == (
        "operational",
        "SN-42",
        "2027-01-01",
    )
    assert body["photo_url"] is None
    assert body["qr_svg_url"].endswith(f"/assets/{stored.pk}/qr.svg")
    assert body["qr_png_url"].endswith(f"/assets/{stored.pk}/qr.png")
    assert body["report_url"] == f"http://alpha.{_domain(alpha)}/r/{stored.report_token}/"
    assert client.get(f"/api/v1/assets/{stored.pk}/").json() == body

    history = client.get(f"/api/v1/assets/{stored.pk}/history/").json()
    assert [(row["action"], row["user"]) for row in history["results"]] == [
        ("created", manager.email)
    ]
    # A part of it.
    part = client.post(
        "/api/v1/assets/", {"name": "Burner", "asset_tag": "B-1-1", "parent": stored.pk}
    ).json()
    assert part["parent"] == stored.pk and part["location"] is None


def _domain(tenant):
    return tenant.get_primary_domain().domain.removeprefix(f"{tenant.subdomain}.")


def test_a_requester_reads_assets_but_cannot_write(alpha, api_for):
    boiler = asset("Boiler", "B-1")
    client, _user, _key = api_for(alpha, role=BuiltinRole.REQUESTER)
    assert client.get("/api/v1/assets/").json()["count"] == 1
    assert client.get(f"/api/v1/assets/{boiler.pk}/").json()["asset_tag"] == "B-1"
    for response in (
        client.post("/api/v1/assets/", {"name": "Mine", "asset_tag": "M-1"}),
        client.patch(f"/api/v1/assets/{boiler.pk}/", {"name": "Mine"}),
        client.post(f"/api/v1/assets/{boiler.pk}/retire/"),
    ):
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert client.get(f"/api/v1/assets/{boiler.pk}/history/").status_code == 200
    assert client.put(f"/api/v1/assets/{boiler.pk}/", {}).status_code == 403
    boiler.refresh_from_db()
    assert (boiler.name, boiler.status) == ("Boiler", "operational")


def test_a_read_only_key_cannot_write_assets(alpha, api_for):
    boiler = asset("Boiler", "B-1")
    client, _user, _key = api_for(alpha, access="read_only")
    assert client.get("/api/v1/assets/").status_code == 200
    response = client.post(f"/api/v1/assets/{boiler.pk}/retire/")
    assert (response.status_code, response.json()["code"]) == (403, "read_only_key")


def test_bad_asset_input_is_a_400_naming_the_field(alpha, api_for):
    client, _user, _key = api_for(alpha)
    boiler = asset("Boiler", "B-1")
    cases = [
        ({"name": "Twin", "asset_tag": "B-1"}, "asset_tag"),
        ({"name": "Lost", "asset_tag": "L-1", "location": 987654}, "location"),
        ({"name": "Dated", "asset_tag": "D-1", "install_date": "yesterday"}, "install_date"),
        (
            {
                "name": "Odd",
                "asset_tag": "O-1",
                "install_date": "2024-06-01",
                "warranty_expiry": "2024-01-01",
            },
            "warranty_expiry",
        ),
        ({"name": "Gone", "asset_tag": "G-1", "status": "retired"}, "status"),
        ({"name": "Weird", "asset_tag": "W-1", "status": "on_fire"}, "status"),
        ({"asset_tag": "N-1"}, "name"),
        ({"name": "Orphan", "asset_tag": "P-1", "parent": 987654}, "parent"),
    ]
    for data, field in cases:
        response = client.post("/api/v1/assets/", data)
        assert response.status_code == 400, (data, response.content)
        assert response.json()["code"] == "invalid"
        assert field in response.json()["fields"], (data, response.json())
    # A cycle: the asset as a part of its own part.
    part = asset("Burner", "B-1-1", parent=boiler)
    response = client.patch(f"/api/v1/assets/{boiler.pk}/", {"parent": part.pk})
    assert (response.status_code, list(response.json()["fields"])) == (400, ["parent"])
    response = client.patch(f"/api/v1/assets/{part.pk}/", {"asset_tag": "B-1"})
    assert (response.status_code, list(response.json()["fields"])) == (400, ["asset_tag"])
    assert Asset.objects.count() == 2


@pytest.mark.parametrize(
    "query, field",
    [
        ("status=on_fire", "status"),
        ("location=987654", "location"),
        ("location=abc", "location"),
        ("parent=987654", "parent"),
        ("warranty_expires_before=soon", "warranty_expires_before"),
    ],
)
def test_bad_filter_values_are_400s(alpha, api_for, query, field):
    client, _user, _key = api_for(alpha)
    response = client.get(f"/api/v1/assets/?{query}")
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_asset_filters_search_and_ordering(alpha, api_for):
    client, _user, _key = api_for(alpha, role=BuiltinRole.TECHNICIAN)
    hq = site()
    building = services.location_create(name="Block A", kind="building", parent=hq)
    room = services.location_create(name="Room 1", kind="room", parent=building)
    elsewhere = site("Depot")
    boiler = asset(
        "Boiler", "B-1", category="HVAC", location=room, warranty_expiry=date(2025, 1, 1)
    )
    asset("Pump", "P-1", category="Plumbing", location=building, serial_number="XYZ-9")
    asset("Van", "V-1", location=elsewhere, parent=None, status="needs_attention")
    asset("Burner", "B-2", parent=boiler, warranty_expiry=date(2030, 1, 1))
    services.asset_retire(asset=asset("Old boiler", "B-0", location=room), user=None)

    def tags(query=""):
        response = client.get(f"/api/v1/assets/?{query}")
        assert response.status_code == 200, response.json()
        return [row["asset_tag"] for row in response.json()["results"]]

    assert tags() == ["B-1", "B-2", "P-1", "V-1"]  # by name, retired left out
    assert tags("include_retired=true") == ["B-1", "B-2", "B-0", "P-1", "V-1"]
    assert tags("status=retired") == ["B-0"]
    assert tags("status=needs_attention") == ["V-1"]
    assert tags("category=hvac") == ["B-1"]
    assert tags(f"location={hq.pk}") == ["B-1", "P-1"]  # inside it, at any depth
    assert tags(f"location={room.pk}") == ["B-1"]
    assert tags(f"parent={boiler.pk}") == ["B-2"]
    assert tags("warranty_expires_before=2026-01-01") == ["B-1"]
    assert tags("search=xyz") == ["P-1"]
    assert tags("search=b-") == ["B-1", "B-2"]
    assert tags("ordering=-asset_tag") == ["V-1", "P-1", "B-2", "B-1"]
    assert tags("ordering=created") == ["B-1", "P-1", "V-1", "B-2"]


def test_patch_retire_and_history(alpha, api_for):
    client, user, _key = api_for(alpha, role=BuiltinRole.MANAGER)
    boiler = asset("Boiler", "B-1")
    response = client.patch(
        f"/api/v1/assets/{boiler.pk}/", {"name": "Big boiler", "status": "needs_attention"}
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["name"], response.json()["status"]) == (
        "Big boiler",
        "needs_attention",
    )
    retired = client.post(f"/api/v1/assets/{boiler.pk}/retire/")
    assert (retired.status_code, retired.json()["status"]) == (200, "retired")
    again = client.post(f"/api/v1/assets/{boiler.pk}/retire/")
    assert (again.status_code, again.json()["code"]) == (400, "already_retired")

    history = client.get(f"/api/v1/assets/{boiler.pk}/history/").json()["results"]
    assert [
        (row["action"], row["field"], row["old_value"], row["new_value"]) for row in history
    ] == [
        ("retired", "status", "needs_attention", "retired"),
        ("updated", "status", "operational", "needs_attention"),
        ("updated", "name", "Boiler", "Big boiler"),
        ("created", "", "", ""),
    ]
    assert {row["user"] for row in history} == {user.email, None}
    # Retired assets are still there to read.
    assert client.get(f"/api/v1/assets/{boiler.pk}/").json()["status"] == "retired"


def test_creating_beyond_the_plan_asset_limit_is_403(alpha, api_for):
    client, _user, _key = api_for(alpha)
    asset("Boiler", "B-1")
    set_tenant(alpha, max_assets=1)
    response = client.post("/api/v1/assets/", {"name": "Pump", "asset_tag": "P-1"})
    assert response.status_code == 403
    assert response.json()["code"] == "plan_limit_reached"
    assert not Asset.objects.filter(asset_tag="P-1").exists()
    set_tenant(alpha, max_assets=2)
    assert client.post("/api/v1/assets/", {"name": "Pump", "asset_tag": "P-1"}).status_code == 201


def test_unknown_assets_are_404s(alpha, api_for):
    client, _user, _key = api_for(alpha)
    for method, path in [
        ("get", "/api/v1/assets/987654/"),
        ("patch", "/api/v1/assets/987654/"),
        ("post", "/api/v1/assets/987654/retire/"),
        ("get", "/api/v1/assets/987654/history/"),
        ("get", "/api/v1/assets/987654/attachments/"),
        ("get", "/api/v1/locations/987654/"),
        ("get", "/api/v1/schedules/987654/"),
    ]:
        response = getattr(client, method)(path)
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), path


# --- Attachments -------------------------------------------------------------------------


def test_asset_attachments_upload_list_download_delete(alpha, api_for, media_root):
    boiler = asset("Boiler", "B-1")
    tech, tech_user, _key = api_for(alpha, role=BuiltinRole.TECHNICIAN)
    manager, _user, _key = api_for(alpha, role=BuiltinRole.MANAGER)
    requester, _user, _key = api_for(alpha, role=BuiltinRole.REQUESTER)

    made = upload(tech, boiler.pk)
    assert made.status_code == 201, made.json()
    body = made.json()
    assert (body["original_name"], body["size"], body["uploaded_by"]) == (
        "note.txt",
        len(TEXT),
        tech_user.email,
    )
    listed = requester.get(f"/api/v1/assets/{boiler.pk}/attachments/").json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]

    download = requester.get(body["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == TEXT
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"

    url = f"/api/v1/assets/{boiler.pk}/attachments/{body['id']}/"
    refused = requester.delete(url)  # neither the uploader nor a lead
    assert (refused.status_code, refused.json()["code"]) == (403, "attachment_delete_forbidden")
    assert manager.delete(url).status_code == 204
    assert not Attachment.objects.filter(pk=body["id"]).exists()
    assert requester.get(body["download_url"]).status_code == 404


def test_bad_uploads_are_400s(alpha, api_for, media_root):
    boiler = asset("Boiler", "B-1")
    client, _user, _key = api_for(alpha)
    response = upload(client, boiler.pk, name="page.html", content=b"<html></html>")
    assert (response.status_code, response.json()["code"]) == (400, "file_type_not_allowed")
    response = upload(client, boiler.pk, name="photo.png", content=b"not a png")
    assert (response.status_code, response.json()["code"]) == (400, "file_type_mismatch")
    response = client.post(
        f"/api/v1/assets/{boiler.pk}/attachments/", {}, content_type=MULTIPART_CONTENT
    )
    assert (response.status_code, list(response.json()["fields"])) == (400, ["file"])
    response = client.post(f"/api/v1/assets/{boiler.pk}/attachments/", {"file": "x"})
    assert response.status_code in (400, 415)
    assert not Attachment.objects.exists()


def test_an_attachment_is_only_reached_through_its_own_asset(alpha, api_for, media_root):
    boiler, pump = asset("Boiler", "B-1"), asset("Pump", "P-1")
    client, _user, _key = api_for(alpha)
    attachment_id = upload(client, boiler.pk).json()["id"]
    wrong = f"/api/v1/assets/{pump.pk}/attachments/{attachment_id}/"
    assert client.get(wrong + "download/").status_code == 404
    assert client.delete(wrong).status_code == 404
    assert client.get(f"/api/v1/assets/{pump.pk}/attachments/").json()["count"] == 0
    assert Attachment.objects.filter(pk=attachment_id).exists()


# --- Preventive maintenance ------------------------------------------------------------


def test_schedules_create_list_patch(alpha, api_for):
    client, _user, _key = api_for(alpha, role=BuiltinRole.MANAGER)
    boiler, pump = asset("Boiler", "B-1"), asset("Pump", "P-1")
    starts = preventive_selectors.tenant_today(alpha) + timedelta(days=3)
    response = client.post(
        "/api/v1/schedules/",
        {
            "asset": boiler.pk,
            "title": "Service",
            "recurrence": "weeks",
            "interval": 2,
            "starts_on": starts.isoformat(),
            "priority": "high",
            "steps": ["Check pressure", "  ", "Bleed radiators"],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["asset"] == {"id": boiler.pk, "name": "Boiler", "asset_tag": "B-1"}
    assert body["steps"] == ["Check pressure", "Bleed radiators"]
    assert body["next_due"] == starts.isoformat()
    assert (body["recurrence"], body["interval"], body["active"]) == ("weeks", 2, True)

    other = preventive_services.schedule_create(
        asset=pump, title="Oil", recurrence="months", starts_on=starts, active=False
    )
    url = f"/api/v1/schedules/{body['id']}/"
    patched = client.patch(url, {"steps": ["Only this"], "interval": 1, "title": "Big service"})
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["steps"], patched.json()["title"]) == (["Only this"], "Big service")
    assert client.get(url).json()["steps"] == ["Only this"]

    def ids(query=""):
        return [row["id"] for row in client.get(f"/api/v1/schedules/?{query}").json()["results"]]

    assert sorted(ids()) == sorted([body["id"], other.pk])
    assert ids(f"asset={pump.pk}") == [other.pk]
    assert ids("active=true") == [body["id"]]
    assert ids("active=false") == [other.pk]
    assert client.put(url, {}).status_code == 405


def test_bad_schedule_input_is_a_400_naming_the_field(alpha, api_for):
    client, _user, _key = api_for(alpha)
    boiler = asset("Boiler", "B-1")
    base = {"asset": boiler.pk, "title": "S", "recurrence": "days", "starts_on": "2030-01-01"}
    cases = [
        ({**base, "recurrence": "weekday"}, "weekday"),
        ({**base, "weekday": 2}, "weekday"),
        ({**base, "recurrence": "sometimes"}, "recurrence"),
        ({**base, "interval": 0}, "interval"),
        ({**base, "starts_on": "01/01/2030"}, "starts_on"),
        ({**base, "asset": 987654}, "asset"),
        ({**base, "steps": "not a list"}, "steps"),
    ]
    for data, field in cases:
        response = client.post("/api/v1/schedules/", data)
        assert response.status_code == 400, (data, response.content)
        assert field in response.json()["fields"], (data, response.json())
    retired = asset("Old", "O-1")
    services.asset_retire(asset=retired, user=None)
    response = client.post("/api/v1/schedules/", {**base, "asset": retired.pk})
    assert (response.status_code, list(response.json()["fields"])) == (400, ["asset"])
    schedule = preventive_services.schedule_create(
        asset=boiler, title="S", recurrence="days", starts_on=date(2030, 1, 1)
    )
    response = client.patch(f"/api/v1/schedules/{schedule.pk}/", {"asset": retired.pk})
    assert (response.status_code, list(response.json()["fields"])) == (400, ["asset"])
    assert client.get("/api/v1/schedules/?asset=987654").status_code == 400


def test_schedules_are_for_managers(alpha, api_for):
    boiler = asset("Boiler", "B-1")
    # Through the ORM: the tenant's plan is not set up yet.
    schedule = MaintenanceSchedule.objects.create(
        asset=boiler, title="S", recurrence="days", starts_on=date(2030, 1, 1)
    )
    for role in (BuiltinRole.TECHNICIAN, BuiltinRole.REQUESTER):
        client, _user, _key = api_for(alpha, role=role)
        assert client.get("/api/v1/schedules/").status_code == 403
        assert client.get(f"/api/v1/schedules/{schedule.pk}/").status_code == 403
        response = client.post(
            "/api/v1/schedules/",
            {"asset": boiler.pk, "title": "X", "recurrence": "days", "starts_on": "2030-01-01"},
        )
        assert response.status_code == 403


def test_schedules_need_the_plan_feature(alpha, api_for):
    boiler = asset("Boiler", "B-1")
    schedule = MaintenanceSchedule.objects.create(
        asset=boiler, title="S", recurrence="days", starts_on=date(2030, 1, 1)
    )
    client, _user, _key = api_for(alpha, plan="basic")
    set_tenant(alpha, feature_overrides={"api_access": True})
    assert client.get("/api/v1/assets/").status_code == 200
    for response in (
        client.get("/api/v1/schedules/"),
        client.get(f"/api/v1/schedules/{schedule.pk}/"),
        client.post(
            "/api/v1/schedules/",
            {"asset": boiler.pk, "title": "X", "recurrence": "days", "starts_on": "2030-01-01"},
        ),
        client.patch(f"/api/v1/schedules/{schedule.pk}/", {"title": "Y"}),
    ):
        assert (response.status_code, response.json()["code"]) == (403, "feature_not_in_plan")
    assert MaintenanceSchedule.objects.get().title == "S"


def _generated(boiler, steps=("Check", "Clean")):
    """A schedule that started two days ago, and its generated occurrences."""
    today = preventive_selectors.tenant_today()
    schedule = preventive_services.schedule_create(
        asset=boiler,
        title="Daily",
        recurrence="days",
        starts_on=today - timedelta(days=2),
        steps=list(steps),
    )
    preventive_services.preventive_requests_generate()
    return schedule


def test_occurrences_and_completing_a_checklist_item(alpha, api_for):
    manager, manager_user, _key = api_for(alpha, role=BuiltinRole.MANAGER)
    requester, _user, _key = api_for(alpha, role=BuiltinRole.REQUESTER)
    schedule = _generated(asset("Boiler", "B-1"))
    listed = manager.get(f"/api/v1/schedules/{schedule.pk}/occurrences/").json()
    assert listed["count"] == 3
    first = listed["results"][0]
    assert [item["text"] for item in first["checklist"]] == ["Check", "Clean"]
    assert first["request_status"] == "new"
    item = first["checklist"][0]
    assert item["completed"] is False

    url = f"/api/v1/schedules/{schedule.pk}/checklist-items/{item['id']}/complete/"
    # The requester cannot see the generated request: as if it did not exist.
    assert requester.post(url).status_code == 404
    done = manager.post(url)
    assert done.status_code == 200, done.json()
    assert (done.json()["completed"], done.json()["completed_by"]) == (True, manager_user.pk)
    assert manager.post(url).json()["completed_at"] == done.json()["completed_at"]
    # Only through its own schedule.
    other = preventive_services.schedule_create(
        asset=asset("Pump", "P-1"), title="S", recurrence="days", starts_on=date(2030, 1, 1)
    )
    wrong = f"/api/v1/schedules/{other.pk}/checklist-items/{item['id']}/complete/"
    assert manager.post(wrong).status_code == 404


def test_generated_work_survives_a_downgrade(alpha, api_for):
    """Completing checklist items is not gated, so a downgrade strands no work."""
    client, _user, _key = api_for(alpha)
    schedule = _generated(asset("Boiler", "B-1"))
    with schema_context(get_public_schema_name()):
        tenant_change_plan(tenant=alpha, plan="basic", actor="test")
    set_tenant(alpha, feature_overrides={"api_access": True})
    occurrences = client.get(f"/api/v1/schedules/{schedule.pk}/occurrences/")
    assert occurrences.status_code == 200
    item_id = occurrences.json()["results"][0]["checklist"][0]["id"]
    url = f"/api/v1/schedules/{schedule.pk}/checklist-items/{item_id}/complete/"
    assert client.post(url).json()["completed"] is True


# --- Tenant isolation ----------------------------------------------------------------------


def _alpha_world(alpha, api_for):
    with tenant_context(alpha):
        client, user, _key = api_for(alpha)
        hq = site("Alpha HQ")
        boiler = asset("Alpha boiler", "ALPHA-1", location=hq, serial_number="ALPHA-SN")
        schedule = _generated(boiler, steps=["Alpha step"])
        attachment = Attachment.objects.create(
            file=SimpleUploadedFile("alpha.txt", b"alpha secret\n"),
            original_name="alpha.txt",
            content_type="text/plain",
            size=13,
            asset=boiler,
            uploaded_by=user,
        )
        item = schedule.occurrences.first().checklist.first()
    return client, hq, boiler, schedule, attachment, item


def _urls(hq, boiler, schedule, attachment, item):
    return [
        ("get", "/api/v1/locations/"),
        ("get", f"/api/v1/locations/{hq.pk}/"),
        ("patch", f"/api/v1/locations/{hq.pk}/"),
        ("post", "/api/v1/locations/"),
        ("get", "/api/v1/assets/"),
        ("post", "/api/v1/assets/"),
        ("get", f"/api/v1/assets/{boiler.pk}/"),
        ("patch", f"/api/v1/assets/{boiler.pk}/"),
        ("post", f"/api/v1/assets/{boiler.pk}/retire/"),
        ("get", f"/api/v1/assets/{boiler.pk}/history/"),
        ("get", f"/api/v1/assets/{boiler.pk}/attachments/"),
        ("post", f"/api/v1/assets/{boiler.pk}/attachments/"),
        ("get", f"/api/v1/assets/{boiler.pk}/attachments/{attachment.pk}/download/"),
        ("delete", f"/api/v1/assets/{boiler.pk}/attachments/{attachment.pk}/"),
        ("get", "/api/v1/schedules/"),
        ("post", "/api/v1/schedules/"),
        ("get", f"/api/v1/schedules/{schedule.pk}/"),
        ("patch", f"/api/v1/schedules/{schedule.pk}/"),
        ("get", f"/api/v1/schedules/{schedule.pk}/occurrences/"),
        ("post", f"/api/v1/schedules/{schedule.pk}/checklist-items/{item.pk}/complete/"),
    ]


def test_an_alpha_key_is_401_on_every_beta_endpoint(alpha, beta, api_for, media_root):
    alpha_client, *objects = _alpha_world(alpha, api_for)
    with tenant_context(beta):
        api_for(beta)
    header = alpha_client.defaults["HTTP_AUTHORIZATION"]
    on_beta = APIClient(beta, header.removeprefix("Bearer "))
    # Each call from an address of its own: five wrong keys from one address lock it
    # out (429, tests/test_lockout.py), and this test is about the key, not the lockout.
    for number, (method, path) in enumerate(_urls(*objects)):
        response = getattr(on_beta, method)(
            path, REMOTE_ADDR=f"10.0.{number // 250}.{number % 250}"
        )
        assert (response.status_code, response.json()["code"]) == (401, "invalid_key"), path
    with tenant_context(alpha):
        assert Asset.objects.get().status == "operational"


def test_beta_never_serves_alpha_rows(alpha, beta, api_for, media_root):
    """Ids overlap across schemas: beta answers with its own rows or 404, never alpha's."""
    _client, hq, boiler, schedule, attachment, item = _alpha_world(alpha, api_for)
    with tenant_context(beta):
        beta_client, _user, _key = api_for(beta)
        # Alpha's ids, as sequences per schema will give sooner or later.
        beta_site = Location.objects.create(
            pk=hq.pk, name="Beta HQ", kind="site", path="/" + path_segment(hq.pk)
        )
        asset("Beta chiller", "BETA-1", pk=boiler.pk, location=beta_site)

    for method, path in _urls(hq, boiler, schedule, attachment, item):
        if method != "get":
            continue
        response = beta_client.get(path)
        assert response.status_code in (200, 404), path
        content = (
            b"".join(response.streaming_content) if response.streaming else response.content
        ).lower()
        assert b"alpha" not in content, (path, content)
    assert beta_client.get(f"/api/v1/assets/{boiler.pk}/").json()["asset_tag"] == "BETA-1"
    assert beta_client.get(f"/api/v1/locations/{hq.pk}/").json()["name"] == "Beta HQ"
    assert [row["asset_tag"] for row in beta_client.get("/api/v1/assets/").json()["results"]] == [
        "BETA-1"
    ]
    # Writes with alpha's ids change beta's own rows only, or nothing.
    renamed = beta_client.patch(f"/api/v1/assets/{boiler.pk}/", {"name": "Beta boiler"})
    assert renamed.json()["asset_tag"] == "BETA-1"
    download = f"/api/v1/assets/{boiler.pk}/attachments/{attachment.pk}/download/"
    assert beta_client.get(download).status_code == 404
    assert beta_client.delete(download.removesuffix("download/")).status_code == 404
    with tenant_context(alpha):
        assert Asset.objects.get().name == "Alpha boiler"
        assert Attachment.objects.filter(pk=attachment.pk).exists()


# --- Query counts ------------------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries), response.json()


def _assert_flat(client, url):
    """As many queries for a page of 50 as for a page of 5 (after a warm-up call)."""
    separator = "&" if "?" in url else "?"
    client.get(url)
    small, small_body = _queries(client, f"{url}{separator}page_size=5")
    large, large_body = _queries(client, f"{url}{separator}page_size=50")
    assert (len(small_body["results"]), len(large_body["results"])) == (5, 50)
    assert small == large, url


ROWS = 55


def test_list_query_counts_do_not_grow_with_the_page(alpha, api_for):
    client, user, _key = api_for(alpha)
    hq = site()
    buildings = Location.objects.bulk_create(
        Location(name=f"Block {n}", kind="building", parent=hq) for n in range(ROWS)
    )
    for building in buildings:
        building.path = hq.path + path_segment(building.pk)
    Location.objects.bulk_update(buildings, ["path"])
    boiler = asset("Boiler", "B-0", location=hq)
    assets = Asset.objects.bulk_create(
        Asset(name=f"Pump {n:02}", asset_tag=f"P-{n}", location=buildings[n], parent=boiler)
        for n in range(ROWS)
    )
    AssetChange.objects.bulk_create(
        AssetChange(asset=boiler, user=user, action="updated", field="notes", new_value=str(n))
        for n in range(ROWS)
    )
    Attachment.objects.bulk_create(
        Attachment(
            file=f"attachments/{n}.txt",
            original_name=f"{n}.txt",
            content_type="text/plain",
            size=1,
            asset=boiler,
            uploaded_by=user,
        )
        for n in range(ROWS)
    )
    schedules = MaintenanceSchedule.objects.bulk_create(
        MaintenanceSchedule(
            asset=assets[n], title=f"S{n}", recurrence="days", starts_on=date(2030, 1, 1)
        )
        for n in range(ROWS)
    )
    ChecklistStep.objects.bulk_create(
        ChecklistStep(schedule=schedule, order=order, text=f"Step {order}")
        for schedule in schedules
        for order in (1, 2)
    )
    for url in [
        "/api/v1/locations/",
        "/api/v1/assets/",
        f"/api/v1/assets/?location={hq.pk}&ordering=-asset_tag",
        f"/api/v1/assets/{boiler.pk}/history/",
        f"/api/v1/assets/{boiler.pk}/attachments/",
        "/api/v1/schedules/",
    ]:
        _assert_flat(client, url)


def test_occurrence_list_query_count_does_not_grow(alpha, api_for):
    client, _user, _key = api_for(alpha)
    today = preventive_selectors.tenant_today()
    schedule = preventive_services.schedule_create(
        asset=asset("Boiler", "B-1"),
        title="Daily",
        recurrence="days",
        starts_on=today - timedelta(days=ROWS),
        steps=["One", "Two"],
    )
    preventive_services.preventive_requests_generate()
    _assert_flat(client, f"/api/v1/schedules/{schedule.pk}/occurrences/")
