"""
The asset and location pages: list filters and pagination kept in the URL,
the detail page's panels (requests, schedules, attachments, photo, QR), the
photo download checks, the printable label sheet, permissions by role, and
query counts that do not grow with the rows.
"""

import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import segno
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context
from PIL import Image

from accounts.roles import BuiltinRole
from assets.models import Asset, Location
from assets.services import asset_create, location_create
from attachments.services import attachment_create
from billing.services import tenant_change_plan
from preventive.selectors import tenant_today
from preventive.services import schedule_create
from requests_app.services import request_create
from tenants.services import tenant_update


@pytest.fixture
def media(settings, tmp_path):
    """A MEDIA_ROOT of the test's own, so nothing lands in .data/media."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def premium(alpha):
    """Alpha on the premium plan (schedules are in it), without asset or request limits."""
    with schema_context(get_public_schema_name()):
        tenant_change_plan(tenant=alpha, plan="premium", actor="test")
        tenant_update(tenant=alpha, actor="test", max_assets=None, max_requests_per_month=None)
    alpha.refresh_from_db()
    return alpha


@pytest.fixture
def people(premium, make_people):
    return make_people(
        premium,
        manager=BuiltinRole.MANAGER,
        tech=BuiltinRole.TECHNICIAN,
        ann=BuiltinRole.REQUESTER,
    )


@pytest.fixture
def room(premium):
    site = location_create(name="HQ", kind=Location.Kind.SITE)
    return location_create(name="Plant room", kind=Location.Kind.ROOM, parent=site)


def png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(buffer, format="PNG")
    return buffer.getvalue()


def query_count(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(captured)


# --- List -----------------------------------------------------------------------------


def test_the_list_filters_and_keeps_filters_in_the_pagination_links(alpha_client, people, room):
    for number in range(30):
        asset_create(
            name=f"Pump {number:02d}", asset_tag=f"P-{number:02d}", category="HVAC", location=room
        )
    asset_create(name="Lift", asset_tag="L-1", category="Lifts")
    asset_create(name="Old fan", asset_tag="F-1", category="HVAC", status="out_of_service")
    alpha_client.force_login(people["ann"])

    html = alpha_client.get("/assets/", {"category": "hvac"}).content.decode()
    assert "Pump 00" in html and ">Lift</a>" not in html
    assert "31 assets match the filters" in html
    # The next page's link keeps the filter; page 2 holds the rest.
    assert 'href="?category=hvac&amp;page=2"' in html
    page_two = alpha_client.get("/assets/", {"category": "hvac", "page": 2}).content.decode()
    assert "Pump 29" in page_two and "Pump 00" not in page_two
    assert "Page 2 of 2" in page_two

    html = alpha_client.get("/assets/", {"status": "out_of_service"}).content.decode()
    assert "Old fan" in html and "Pump 00" not in html
    html = alpha_client.get("/assets/", {"q": "lift"}).content.decode()
    assert ">Lift</a>" in html and "Pump 00" not in html
    html = alpha_client.get("/assets/", {"location": room.parent_id}).content.decode()
    assert "Pump 00" in html and ">Lift</a>" not in html and "Old fan" not in html
    # Rows become cards on a phone; each cell says its column.
    assert 'class="table table-cards' in html and 'data-label="Status"' in html


def test_the_list_offers_buttons_by_role(alpha_client, people):
    alpha_client.force_login(people["ann"])
    html = alpha_client.get("/assets/").content.decode()
    assert "New asset" not in html and "/schedules/" not in html
    alpha_client.force_login(people["manager"])
    html = alpha_client.get("/assets/").content.decode()
    assert 'href="/assets/new/"' in html and "New asset" in html
    assert 'href="/schedules/"' in html and 'href="/assets/locations/"' in html


def test_the_list_query_count_does_not_grow_with_the_rows(alpha_client, people, room):
    def add(start, count):
        for number in range(start, start + count):
            parent = asset_create(name=f"Plant {number}", asset_tag=f"PL-{number}", location=room)
            asset_create(name=f"Pump {number}", asset_tag=f"P-{number}", parent=parent)

    alpha_client.force_login(people["manager"])
    add(0, 2)
    few = query_count(alpha_client, "/assets/")
    add(2, 13)
    assert query_count(alpha_client, "/assets/") == few


def test_asset_pages_carry_no_inline_style_or_script(alpha_client, people, room):
    boiler = asset_create(name="Boiler", asset_tag="B-1", location=room)
    alpha_client.force_login(people["manager"])
    for url in (
        "/assets/",
        f"/assets/{boiler.pk}/",
        f"/assets/{boiler.pk}/edit/",
        "/assets/new/",
        "/assets/locations/",
        "/assets/locations/new/",
        f"/assets/labels/?asset={boiler.pk}",
    ):
        html = alpha_client.get(url).content.decode()
        assert "style=" not in html, url
        assert re.findall(r"<script(?![^>]*(?:src=|application/json))", html) == [], url
        assert html.count("<h1") == 1, url


# --- Detail ------------------------------------------------------------------------


def test_the_detail_page_shows_requests_schedules_attachments_photo_and_qr(
    alpha_client, people, room, media
):
    boiler = asset_create(name="Boiler", asset_tag="B-1", location=room)
    other = asset_create(name="Lift", asset_tag="L-1")
    filed = request_create(title="Noisy pump", requester=people["ann"], asset=boiler)
    elsewhere = request_create(title="Stuck lift", requester=people["ann"], asset=other)
    starts = tenant_today() + timedelta(days=20)
    schedule = schedule_create(
        asset=boiler, title="Annual service", recurrence="months", interval=12,
        starts_on=starts, steps=["Check burner"],
    )  # fmt: skip
    attachment_create(
        file=SimpleUploadedFile("manual.pdf", b"%PDF-1.4\n"),
        uploaded_by=people["manager"],
        asset=boiler,
    )
    boiler.photo.save("boiler.png", SimpleUploadedFile("boiler.png", png_bytes()))

    alpha_client.force_login(people["manager"])
    response = alpha_client.get(f"/assets/{boiler.pk}/")
    html = response.content.decode()
    assert response.context["nav"] == "assets"
    assert filed.reference in html and elsewhere.reference not in html
    assert "1 open" in html
    assert f'href="/schedules/{schedule.pk}/"' in html and "Annual service" in html
    assert "Every 12 months" in html and starts.strftime("%a %-d %b %Y") in html
    assert f'href="/schedules/new/?asset={boiler.pk}"' in html
    assert "manual.pdf" in html
    assert f'src="/assets/{boiler.pk}/photo/"' in html and "/media/" not in html
    assert f'src="/assets/{boiler.pk}/qr.svg"' in html and f"/r/{boiler.report_token}/" in html
    assert f'href="/assets/labels/?asset={boiler.pk}"' in html


def test_panels_follow_the_viewers_permissions(alpha_client, people, room):
    boiler = asset_create(name="Boiler", asset_tag="B-1", location=room)
    schedule_create(
        asset=boiler, title="Annual service", recurrence="days", starts_on=date(2030, 1, 1)
    )
    own = request_create(title="Mine", requester=people["ann"], asset=boiler)
    other = request_create(title="Not mine", requester=people["manager"], asset=boiler)
    alpha_client.force_login(people["ann"])
    html = alpha_client.get(f"/assets/{boiler.pk}/").content.decode()
    # A requester sees their own requests about the asset, and no schedules.
    assert own.reference in html and other.reference not in html
    assert "Maintenance schedules" not in html and "Annual service" not in html
    assert "Edit" not in html and "Retire" not in html


def test_schedules_panel_says_when_the_plan_lacks_them(alpha, alpha_client, make_people):
    manager = make_people(alpha, manager=BuiltinRole.MANAGER)["manager"]
    boiler = asset_create(name="Boiler", asset_tag="B-1")
    alpha_client.force_login(manager)
    html = alpha_client.get(f"/assets/{boiler.pk}/").content.decode()
    assert "Preventive maintenance is not in your plan." in html
    assert "/schedules/new/" not in html


def test_the_detail_query_count_does_not_grow_with_the_rows(alpha_client, people, room, media):
    boiler = asset_create(name="Boiler", asset_tag="B-1", location=room)

    def add(start, count):
        for number in range(start, start + count):
            request_create(title=f"Job {number}", requester=people["ann"], asset=boiler)
            schedule_create(
                asset=boiler, title=f"Check {number}", recurrence="weeks",
                starts_on=date(2030, 1, 1), steps=["One", "Two"],
            )  # fmt: skip
            attachment_create(
                file=SimpleUploadedFile(f"note{number}.txt", b"notes\n"),
                uploaded_by=people["manager"],
                asset=boiler,
            )
            asset_create(name=f"Part {number}", asset_tag=f"PT-{boiler.pk}-{number}", parent=boiler)

    alpha_client.force_login(people["manager"])
    add(0, 3)
    few = query_count(alpha_client, f"/assets/{boiler.pk}/")
    add(3, 27)
    assert query_count(alpha_client, f"/assets/{boiler.pk}/") == few


# --- Photo ---------------------------------------------------------------------------


def test_the_photo_is_served_through_the_asset_check(alpha, alpha_client, people, media):
    boiler = asset_create(name="Boiler", asset_tag="B-1")
    boiler.photo.save("boiler.png", SimpleUploadedFile("boiler.png", png_bytes()))
    url = f"/assets/{boiler.pk}/photo/"

    anonymous = alpha_client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")

    alpha_client.force_login(people["tech"])
    response = alpha_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]

    without_photo = asset_create(name="Lift", asset_tag="L-1")
    assert alpha_client.get(f"/assets/{without_photo.pk}/photo/").status_code == 404


def test_another_tenant_cannot_fetch_the_photo(alpha, media, make_people, beta_client):
    # beta_client switched the test's connection to beta: alpha's rows are made in alpha.
    with tenant_context(alpha):
        boiler = asset_create(name="Boiler", asset_tag="B-1")
        boiler.photo.save("boiler.png", SimpleUploadedFile("boiler.png", png_bytes()))
    with tenant_context(beta_client.tenant):
        stranger = make_people(beta_client.tenant, eve=BuiltinRole.MANAGER)["eve"]
    beta_client.force_login(stranger)
    response = beta_client.get(f"/assets/{boiler.pk}/photo/")
    assert response.status_code == 404


# --- Label sheet ------------------------------------------------------------------------


def report_url(asset):
    return f"http://alpha.localhost/r/{asset.report_token}/"


def test_the_label_sheet_prints_the_ticked_assets_qr_codes(alpha_client, people, room):
    boiler = asset_create(name="Boiler", asset_tag="B-1", location=room)
    pump = asset_create(name="Pump", asset_tag="P-1")
    lift = asset_create(name="Lift", asset_tag="L-1")
    alpha_client.force_login(people["tech"])
    response = alpha_client.get("/assets/labels/", {"asset": [boiler.pk, pump.pk]})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="qr-label"') == 2 and html.count('<svg viewBox="') == 2
    assert "B-1" in html and "P-1" in html and "L-1" not in html and lift.name not in html
    assert "Plant room" in html
    assert "css/labels.css" in html and "js/assets_labels.js" in html
    # Each label's QR code is the asset's report URL, drawn on the server.
    for asset in (boiler, pump):
        expected = segno.make(report_url(asset), error="m", micro=False)
        assert expected.svg_inline(scale=3, border=2, omitsize=True).split('d="')[1] in html


def test_the_label_css_is_an_a4_sheet():
    css = (Path(__file__).resolve().parent.parent / "static/css/labels.css").read_text()
    assert "@page { size: A4;" in css
    assert "grid-template-columns: repeat(3, 63.5mm)" in css


def test_the_label_sheet_needs_a_choice(alpha_client, people):
    alpha_client.force_login(people["tech"])
    response = alpha_client.get("/assets/labels/", follow=True)
    assert response.redirect_chain[-1][0] == "/assets/"
    assert "Tick the assets to print labels for." in response.content.decode()
    response = alpha_client.get("/assets/labels/", {"asset": "boiler"}, follow=True)
    assert response.redirect_chain[-1][0] == "/assets/"


def test_the_label_sheet_refuses_too_many(alpha_client, people):
    alpha_client.force_login(people["tech"])
    response = alpha_client.get("/assets/labels/", {"asset": list(range(1, 212))}, follow=True)
    assert "At most 210 labels at a time." in response.content.decode()


def test_the_label_sheet_query_count_does_not_grow(alpha_client, people, room):
    alpha_client.force_login(people["tech"])
    few = [asset_create(name=f"A{n}", asset_tag=f"A-{n}", location=room).pk for n in range(3)]
    many = few + [asset_create(name=f"B{n}", asset_tag=f"B-{n}").pk for n in range(27)]
    assert query_count(alpha_client, f"/assets/labels/?asset={few[0]}&asset={few[1]}") == (
        query_count(alpha_client, "/assets/labels/?" + "&".join(f"asset={pk}" for pk in many))
    )


# --- Locations and forms ---------------------------------------------------------------


def test_the_location_tree_is_indented_by_class(alpha_client, people, room):
    alpha_client.force_login(people["manager"])
    html = alpha_client.get("/assets/locations/").content.decode()
    assert html.index("HQ") < html.index("Plant room")
    assert "depth-0" in html and "depth-1" in html
    assert 'href="/assets/locations/new/"' in html and "New location" in html


def test_forms_render_with_the_design_system_and_keep_input_on_error(alpha_client, people):
    alpha_client.force_login(people["manager"])
    html = alpha_client.get("/assets/new/").content.decode()
    assert 'class="form-control' in html and 'class="form-select' in html
    response = alpha_client.post(
        "/assets/new/", {"name": "Boiler", "asset_tag": "", "status": "operational"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "is-invalid" in html and 'value="Boiler"' in html
    assert not Asset.objects.exists()
