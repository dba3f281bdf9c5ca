"""Locations (tree rules, selectors), assets (rules, services, audit trail), staff pages."""

import datetime
import io
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from assets.models import Asset, AssetChange, Location, path_segment
from assets.selectors import (
    asset_ancestor_ids,
    asset_list,
    location_path,
    location_path_display,
    location_subtree,
    location_tree,
)
from assets.services import (
    asset_create,
    asset_retire,
    asset_update,
    location_create,
    location_update,
)

Kind = Location.Kind

SEP = " \u203a "  # how location paths are shown


@pytest.fixture
def estate(alpha):
    """Site HQ, its Main building, Floor 1 with the Boiler room, and a Floor 2."""
    site = location_create(name="HQ", kind=Kind.SITE, address="1 Main St")
    building = location_create(name="Main building", kind=Kind.BUILDING, parent=site)
    floor = location_create(name="Floor 1", kind=Kind.FLOOR, parent=building)
    room = location_create(name="Boiler room", kind=Kind.ROOM, parent=floor)
    floor2 = location_create(name="Floor 2", kind=Kind.FLOOR, parent=building)
    return {"site": site, "building": building, "floor": floor, "room": room, "floor2": floor2}


def make_user(role, email):
    roles = roles_provision_defaults()
    return user_create(email=email, password=None, roles=[roles[role]])


# --- Location tree -----------------------------------------------------------------


def test_location_paths_are_materialised(estate):
    site, building, room = estate["site"], estate["building"], estate["room"]
    assert site.path == f"/{site.pk:010d}/"
    assert room.path == "/" + "".join(
        path_segment(place.pk) for place in (site, building, estate["floor"], room)
    )
    assert (site.depth, room.depth) == (0, 3)


def test_location_path_and_subtree_take_one_query_each(estate):
    with CaptureQueriesContext(connection) as queries:
        path = location_path(estate["room"])
    assert [place.name for place in path] == ["HQ", "Main building", "Floor 1", "Boiler room"]
    assert len(queries) == 1

    with CaptureQueriesContext(connection) as queries:
        subtree = [place.name for place in location_subtree(estate["building"])]
    assert subtree == ["Main building", "Floor 1", "Boiler room", "Floor 2"]
    assert len(queries) == 1
    assert (
        location_path_display(estate["room"]) == f"HQ{SEP}Main building{SEP}Floor 1{SEP}Boiler room"
    )
    assert estate["site"].pk not in {p.pk for p in location_subtree(estate["building"])}


def test_location_tree_is_in_pre_order(estate):
    other = location_create(name="Depot", kind=Kind.SITE)
    names = [(place.depth, place.name) for place in location_tree()]
    assert names == [
        (0, "HQ"),
        (1, "Main building"),
        (2, "Floor 1"),
        (3, "Boiler room"),
        (2, "Floor 2"),
        (0, "Depot"),
    ]
    assert other.path == "/" + path_segment(other.pk)


@pytest.mark.parametrize(
    ("kind", "parent_key", "message"),
    [
        (Kind.SITE, "site", "A site is the top of a tree"),
        (Kind.BUILDING, None, "must be inside another location"),
        (Kind.BUILDING, "room", "cannot be inside a room"),
        (Kind.FLOOR, "floor", "cannot be inside a floor"),
        (Kind.BUILDING, "floor", "cannot be inside a floor"),
    ],
)
def test_location_kind_hierarchy_is_enforced(estate, kind, parent_key, message):
    parent = estate[parent_key] if parent_key else None
    with pytest.raises(ValidationError, match=message) as error:
        location_create(name="New", kind=kind, parent=parent)
    assert "parent" in error.value.message_dict


def test_location_levels_may_be_skipped_downwards(estate):
    """A single-storey building has rooms straight in it."""
    room = location_create(name="Shed", kind=Kind.ROOM, parent=estate["building"])
    assert room.path == estate["building"].path + path_segment(room.pk)


def test_location_cannot_move_into_its_own_subtree(estate):
    # Same kinds would be refused by the hierarchy too; a cycle is refused first.
    with pytest.raises(ValidationError, match="inside itself"):
        location_update(location=estate["building"], data={"parent": estate["floor"]})
    with pytest.raises(ValidationError, match="inside itself"):
        location_update(location=estate["floor"], data={"parent": estate["floor"]})


def test_location_kind_change_cannot_strand_children(estate):
    with pytest.raises(ValidationError, match="would then be above it") as error:
        location_update(location=estate["floor"], data={"kind": Kind.ROOM})
    assert "kind" in error.value.message_dict


def test_moving_a_location_moves_its_subtree(estate):
    other = location_create(name="Annex", kind=Kind.BUILDING, parent=estate["site"])
    floor = location_update(location=estate["floor"], data={"parent": other})
    room = Location.objects.get(pk=estate["room"].pk)
    assert floor.path == other.path + path_segment(floor.pk)
    assert room.path == floor.path + path_segment(room.pk)
    assert [p.name for p in location_path(room)] == ["HQ", "Annex", "Floor 1", "Boiler room"]
    assert [p.name for p in location_subtree(estate["building"])] == ["Main building", "Floor 2"]


def test_location_names_are_unique_among_siblings(estate):
    with pytest.raises(ValidationError, match="already a location with this name"):
        location_create(name="Floor 1", kind=Kind.FLOOR, parent=estate["building"])
    with pytest.raises(ValidationError, match="already a location with this name"):
        location_create(name="HQ", kind=Kind.SITE)
    # Same name elsewhere in the tree is fine.
    annex = location_create(name="Annex", kind=Kind.BUILDING, parent=estate["site"])
    assert location_create(name="Floor 1", kind=Kind.FLOOR, parent=annex).pk


# --- Assets ------------------------------------------------------------------------


def test_asset_create_with_all_details(estate):
    boiler = asset_create(
        name="Boiler",
        asset_tag="  B-001 ",
        category="HVAC",
        location=estate["room"],
        manufacturer="Viessmann",
        model="Vitodens 200",
        serial_number="SN-42",
        install_date=datetime.date(2020, 5, 1),
        warranty_expiry=datetime.date(2025, 5, 1),
        status=Asset.Status.NEEDS_ATTENTION,
    )
    boiler.refresh_from_db()
    assert boiler.asset_tag == "B-001"
    assert boiler.location == estate["room"]
    assert boiler.status == "needs_attention"
    assert len(boiler.report_token) >= 22
    assert boiler.report_token != str(boiler.pk)
    pump = asset_create(name="Pump", asset_tag="P-001", parent=boiler)
    assert pump.report_token != boiler.report_token
    assert list(boiler.components.all()) == [pump]


def test_asset_validation(alpha):
    with pytest.raises(ValidationError) as error:
        asset_create(
            name="",
            asset_tag="X-1",
            status="broken",
            install_date=datetime.date(2024, 1, 2),
            warranty_expiry=datetime.date(2024, 1, 1),
        )
    assert set(error.value.message_dict) == {"name", "status", "warranty_expiry"}
    assert not Asset.objects.exists()


def test_asset_tag_is_unique_per_tenant_only(alpha, beta):
    with tenant_context(alpha):
        asset_create(name="Boiler", asset_tag="B-001")
        with pytest.raises(ValidationError, match=r"(?i)asset tag already exists"):
            asset_create(name="Other boiler", asset_tag="B-001")
    with tenant_context(beta):
        assert asset_create(name="Their boiler", asset_tag="B-001").pk
    with tenant_context(alpha):
        assert Asset.objects.filter(asset_tag="B-001").count() == 1


def test_asset_parent_cannot_form_a_cycle(alpha):
    plant = asset_create(name="Plant", asset_tag="PL-1")
    boiler = asset_create(name="Boiler", asset_tag="B-1", parent=plant)
    burner = asset_create(name="Burner", asset_tag="BU-1", parent=boiler)
    assert set(asset_ancestor_ids(burner.pk)) == {burner.pk, boiler.pk, plant.pk}
    with pytest.raises(ValidationError, match="part of itself"):
        asset_update(asset=plant, user=None, data={"parent": burner})
    with pytest.raises(ValidationError, match="part of itself"):
        asset_update(asset=plant, user=None, data={"parent": plant})
    plant.refresh_from_db()
    assert plant.parent is None


def test_asset_list_filters(estate):
    asset_create(name="Boiler", asset_tag="B-1", category="HVAC", location=estate["room"])
    asset_create(
        name="Chiller",
        asset_tag="C-1",
        category="hvac",
        location=estate["floor2"],
        serial_number="Z9",
    )
    asset_create(name="Lift", asset_tag="L-1", category="Lifts", status=Asset.Status.OUT_OF_SERVICE)
    old = asset_create(name="Old boiler", asset_tag="B-0", category="HVAC", location=estate["room"])
    asset_retire(asset=old, user=None)

    def names(**filters):
        return [asset.name for asset in asset_list(filters=filters)]

    assert names() == ["Boiler", "Chiller", "Lift"]
    assert names(category="HVAC") == ["Boiler", "Chiller"]
    assert names(status="out_of_service") == ["Lift"]
    assert names(status="retired") == ["Old boiler"]
    assert names(include_retired=True) == ["Boiler", "Chiller", "Lift", "Old boiler"]
    assert names(q="z9") == ["Chiller"]
    assert names(q="boil", include_retired=True) == ["Boiler", "Old boiler"]
    # A location filter includes everything inside it.
    assert names(location=estate["building"].pk) == ["Boiler", "Chiller"]
    assert names(location=estate["floor"].pk) == ["Boiler"]


# --- Audit trail ---------------------------------------------------------------------


def test_audit_trail_records_each_changed_field_with_the_user(estate):
    manager = make_user(BuiltinRole.MANAGER, "manager@alpha.example")
    boiler = asset_create(name="Boiler", asset_tag="B-1", user=manager)
    stale_copy = Asset.objects.get(pk=boiler.pk)
    stale_copy.name = "changed in memory, not saved"

    asset_update(
        asset=stale_copy,
        user=manager,
        data={
            "name": "Main boiler",
            "location": estate["room"],
            "install_date": datetime.date(2021, 3, 4),
            "manufacturer": "",  # unchanged: not recorded
        },
    )
    asset_retire(asset=Asset.objects.get(pk=boiler.pk), user=None)

    changes = list(
        AssetChange.objects.filter(asset=boiler)
        .order_by("pk")
        .values_list("action", "field", "old_value", "new_value", "user__email")
    )
    assert changes == [
        ("created", "", "", "", "manager@alpha.example"),
        ("updated", "name", "Boiler", "Main boiler", "manager@alpha.example"),
        (
            "updated",
            "location",
            "",
            f"Boiler room [#{estate['room'].pk}]",
            "manager@alpha.example",
        ),
        ("updated", "install_date", "", "2021-03-04", "manager@alpha.example"),
        ("retired", "status", "operational", "retired", None),
    ]
    assert all(change.changed for change in AssetChange.objects.filter(asset=boiler))
    with pytest.raises(ValidationError, match="already retired"):
        asset_retire(asset=Asset.objects.get(pk=boiler.pk), user=None)


def test_asset_update_refuses_unknown_fields(alpha):
    boiler = asset_create(name="Boiler", asset_tag="B-1")
    with pytest.raises(TypeError, match="report_token"):
        asset_update(asset=boiler, user=None, data={"report_token": "guessable"})


# --- Staff pages and permissions ------------------------------------------------------


def test_requester_cannot_create_assets_or_locations(alpha, alpha_client):
    alpha_client.force_login(make_user(BuiltinRole.REQUESTER, "req@alpha.example"))
    response = alpha_client.post("/assets/new/", {"name": "Boiler", "asset_tag": "B-1"})
    assert response.status_code == 403
    assert (
        alpha_client.post("/assets/locations/new/", {"name": "HQ", "kind": "site"}).status_code
        == 403
    )
    assert not Asset.objects.exists() and not Location.objects.exists()
    # Viewing is allowed to requesters.
    assert alpha_client.get("/assets/").status_code == 200


def test_anonymous_staff_pages_redirect_to_login(alpha, alpha_client):
    response = alpha_client.get("/assets/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_manager_creates_and_edits_an_asset_through_the_pages(estate, alpha_client):
    manager = make_user(BuiltinRole.MANAGER, "manager@alpha.example")
    alpha_client.force_login(manager)
    response = alpha_client.post(
        "/assets/new/",
        {
            "name": "Boiler",
            "asset_tag": "B-1",
            "category": "HVAC",
            "status": "operational",
            "location": estate["room"].pk,
            "install_date": "2022-01-31",
        },
    )
    boiler = Asset.objects.get(asset_tag="B-1")
    assert response.status_code == 302
    assert response["Location"] == f"/assets/{boiler.pk}/"
    assert (boiler.location, boiler.install_date) == (estate["room"], datetime.date(2022, 1, 31))

    form = alpha_client.get(f"/assets/{boiler.pk}/edit/").content.decode()
    assert 'value="Boiler"' in form and "Boiler room (room)" in form
    assert "New asset" in alpha_client.get("/assets/new/").content.decode()

    page = alpha_client.get(f"/assets/{boiler.pk}/").content.decode()
    assert f"HQ{SEP}Main building{SEP}Floor 1{SEP}Boiler room" in page
    assert f"/r/{boiler.report_token}/" in page
    assert f"/assets/{boiler.pk}/qr.svg" in page

    response = alpha_client.post(
        f"/assets/{boiler.pk}/edit/",
        {
            "name": "Boiler",
            "asset_tag": "B-1",
            "category": "HVAC",
            "status": "needs_attention",
            "location": estate["room"].pk,
            "install_date": "2022-01-31",
        },
    )
    assert response.status_code == 302
    change = AssetChange.objects.get(asset=boiler, action="updated")
    assert (change.field, change.old_value, change.new_value, change.user) == (
        "status",
        "operational",
        "needs_attention",
        manager,
    )
    page = alpha_client.get(f"/assets/{boiler.pk}/").content.decode()
    assert "manager@alpha.example" in page and "needs_attention" in page

    listing = alpha_client.get("/assets/", {"location": estate["building"].pk}).content.decode()
    assert "Boiler" in listing


def test_asset_form_shows_plan_limit_as_form_error(alpha, alpha_client, make_tenant):
    from tenants.services import tenant_update

    tenant_update(tenant=alpha, actor="test", max_assets=0)
    alpha_client.force_login(make_user(BuiltinRole.MANAGER, "manager@alpha.example"))
    response = alpha_client.post(
        "/assets/new/", {"name": "Boiler", "asset_tag": "B-1", "status": "operational"}
    )
    assert response.status_code == 200
    assert "plan allows 0 assets" in response.content.decode()
    assert not Asset.objects.exists()


def test_location_pages(estate, alpha_client):
    alpha_client.force_login(make_user(BuiltinRole.MANAGER, "manager@alpha.example"))
    page = alpha_client.get("/assets/locations/").content.decode()
    assert page.index("HQ") < page.index("Main building") < page.index("Boiler room")
    form = alpha_client.get(f"/assets/locations/new/?parent={estate['floor2'].pk}").content.decode()
    assert f'<option value="{estate["floor2"].pk}" selected>' in form
    # A room cannot hold anything, and a location is never offered as its own parent.
    form = alpha_client.get(f"/assets/locations/{estate['floor'].pk}/edit/").content.decode()
    assert f'value="{estate["room"].pk}"' not in form
    assert f'<option value="{estate["floor"].pk}"' not in form

    response = alpha_client.post(
        "/assets/locations/new/",
        {"name": "Plant room", "kind": "room", "parent": estate["floor2"].pk},
    )
    assert response.status_code == 302
    assert Location.objects.get(name="Plant room").path.startswith(estate["floor2"].path)

    response = alpha_client.post(
        "/assets/locations/new/", {"name": "Bad", "kind": "building", "parent": estate["floor2"].pk}
    )
    assert response.status_code == 200
    assert "cannot be inside a floor" in response.content.decode()


def test_asset_list_query_count_does_not_grow(estate):
    def queries_for_listing():
        with CaptureQueriesContext(connection) as queries:
            rows = [
                (a.name, a.location and a.location.name, a.parent_id and a.parent.name)
                for a in asset_list()
            ]
        return len(queries), len(rows)

    plant = asset_create(name="Plant", asset_tag="PL-0", location=estate["room"])
    asset_create(name="Pump 0", asset_tag="P-0", location=estate["room"], parent=plant)
    few = queries_for_listing()
    for number in range(1, 6):
        asset_create(
            name=f"Pump {number}", asset_tag=f"P-{number}", location=estate["floor2"], parent=plant
        )
    many = queries_for_listing()
    assert (few, many) == ((1, 2), (1, 7))


def test_photo_is_stored_under_the_tenant_schema_and_audited(alpha, alpha_client):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    manager = make_user(BuiltinRole.MANAGER, "manager@alpha.example")
    boiler = asset_create(name="Boiler", asset_tag="B-1")
    alpha_client.force_login(manager)
    response = alpha_client.post(
        f"/assets/{boiler.pk}/edit/",
        {
            "name": "Boiler",
            "asset_tag": "B-1",
            "status": "operational",
            "photo": SimpleUploadedFile("boiler.png", buffer.getvalue(), content_type="image/png"),
        },
    )
    assert response.status_code == 302
    boiler.refresh_from_db()
    try:
        assert boiler.photo.name.startswith("assets/photos/")
        assert f"/{alpha.schema_name}/assets/photos/" in boiler.photo.path
        assert Path(boiler.photo.path).read_bytes() == buffer.getvalue()
        change = AssetChange.objects.get(asset=boiler, field="photo")
        assert (change.old_value, change.new_value, change.user) == ("", boiler.photo.name, manager)
    finally:
        boiler.photo.delete(save=False)

    response = alpha_client.post(
        f"/assets/{boiler.pk}/edit/",
        {
            "name": "Boiler",
            "asset_tag": "B-1",
            "status": "operational",
            "photo": SimpleUploadedFile("x.png", b"not an image"),
        },
    )
    assert response.status_code == 200
    assert "Upload a valid image" in response.content.decode()
