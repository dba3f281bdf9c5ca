"""QR codes and the public "report a problem" page behind them."""

import io

import pytest
import segno
from PIL import Image

from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from assets.models import Location
from assets.qr import qr_make
from assets.services import asset_create, asset_retire, location_create
from requests_app.models import MaintenanceRequest
from tenants.services import tenant_update

SEP = " \u203a "  # how location paths are shown


@pytest.fixture
def boiler(alpha):
    site = location_create(name="HQ", kind=Location.Kind.SITE)
    room = location_create(name="Boiler room", kind=Location.Kind.ROOM, parent=site)
    return asset_create(name="Boiler", asset_tag="B-001", location=room)


@pytest.fixture
def staff_client(alpha, alpha_client):
    roles = roles_provision_defaults()
    alpha_client.force_login(
        user_create(
            email="tech@alpha.example", password=None, roles=[roles[BuiltinRole.TECHNICIAN]]
        )
    )
    return alpha_client


def report_url(asset):
    return f"http://alpha.localhost/r/{asset.report_token}/"


VALID = {
    "reporter_name": "Dana Visitor",
    "reporter_contact": "dana@example.com",
    "title": "Boiler is making a banging noise",
    "description": "Since this morning.",
    "website": "",
}


def png_matrix(png: bytes, scale: int, border: int):
    """Read the modules back out of a rendered PNG (dark = True)."""
    image = Image.open(io.BytesIO(png)).convert("L")
    size = image.width // scale - 2 * border
    return [
        [
            image.getpixel(((border + x) * scale + scale // 2, (border + y) * scale + scale // 2))
            < 128
            for x in range(size)
        ]
        for y in range(size)
    ]


# --- QR codes --------------------------------------------------------------------------


def test_qr_png_encodes_the_report_url(boiler, staff_client):
    response = staff_client.get(f"/assets/{boiler.pk}/qr.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    expected = segno.make(report_url(boiler), error="m", micro=False)
    assert png_matrix(response.content, scale=8, border=4) == [
        [bool(module) for module in row] for row in expected.matrix
    ]


def test_qr_svg_encodes_the_report_url(boiler, staff_client):
    response = staff_client.get(f"/assets/{boiler.pk}/qr.svg?download")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Disposition"] == 'attachment; filename="B-001-qr.svg"'
    svg = response.content.decode()
    assert svg.lstrip().startswith("<?xml") or svg.lstrip().startswith("<svg")
    assert f"<title>{report_url(boiler)}</title>" in svg
    # Same symbol as the PNG: segno renders the path from the matrix it built for this URL.
    buffer = io.BytesIO()
    qr_make(report_url(boiler)).save(
        buffer, kind="svg", scale=4, border=4, title=report_url(boiler)
    )
    assert response.content == buffer.getvalue()
    # And not the symbol of a guessable URL.
    other = io.BytesIO()
    qr_make(f"http://alpha.localhost/r/{boiler.pk}/").save(other, kind="svg", scale=4, border=4)
    assert response.content != other.getvalue()


def test_qr_code_needs_view_permission(boiler, alpha_client):
    response = alpha_client.get(f"/assets/{boiler.pk}/qr.png")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- The public report page ------------------------------------------------------------


def test_report_page_is_public_and_shows_the_asset(boiler, alpha_client):
    response = alpha_client.get(f"/r/{boiler.report_token}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Boiler" in page and "B-001" in page
    assert f"HQ{SEP}Boiler room" in page
    assert 'name="website"' in page  # the honeypot is there, hidden by CSS
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_report_files_a_new_request(boiler, alpha_client):
    response = alpha_client.post(f"/r/{boiler.report_token}/", VALID)
    assert response.status_code == 302
    assert response["Location"] == f"/r/{boiler.report_token}/?sent=1"
    request = MaintenanceRequest.objects.get()
    assert request.title == "Boiler is making a banging noise"
    assert request.description == "Since this morning."
    assert request.status == "new"
    assert (request.reporter_name, request.reporter_contact) == ("Dana Visitor", "dana@example.com")
    assert request.asset == boiler
    assert request.requester is None
    assert "Thank you" in alpha_client.get(response["Location"]).content.decode()


def test_report_accepts_a_phone_number_and_refuses_nonsense(boiler, alpha_client):
    response = alpha_client.post(
        f"/r/{boiler.report_token}/", {**VALID, "reporter_contact": "+44 (20) 7946-0958"}
    )
    assert response.status_code == 302
    response = alpha_client.post(
        f"/r/{boiler.report_token}/", {**VALID, "reporter_contact": "call me"}
    )
    assert response.status_code == 400
    assert "Enter an e-mail address or a phone number." in response.content.decode()
    assert MaintenanceRequest.objects.count() == 1


def test_honeypot_rejects_the_report(boiler, alpha_client):
    response = alpha_client.post(
        f"/r/{boiler.report_token}/", {**VALID, "website": "http://spam.example"}
    )
    assert response.status_code == 400
    assert "looks automated" in response.content.decode()
    assert not MaintenanceRequest.objects.exists()


def test_reports_are_rate_limited_per_client(boiler, alpha_client):
    for _attempt in range(10):
        assert (
            alpha_client.post(f"/r/{boiler.report_token}/", {**VALID, "title": ""}).status_code
            == 400
        )
    response = alpha_client.post(f"/r/{boiler.report_token}/", VALID)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many reports" in response.content.decode()
    assert not MaintenanceRequest.objects.exists()
    # Another client address still gets through.
    other = alpha_client.post(f"/r/{boiler.report_token}/", VALID, REMOTE_ADDR="203.0.113.9")
    assert other.status_code == 302


def test_plan_limit_shows_as_a_form_error(alpha, boiler, alpha_client):
    tenant_update(tenant=alpha, actor="test", max_requests_per_month=0)
    response = alpha_client.post(f"/r/{boiler.report_token}/", VALID)
    assert response.status_code == 400
    assert "plan allows 0 requests this month" in response.content.decode()
    assert not MaintenanceRequest.objects.exists()


def test_retired_asset_takes_no_reports(boiler, alpha_client):
    asset_retire(asset=boiler, user=None)
    assert (
        "no longer takes reports" in alpha_client.get(f"/r/{boiler.report_token}/").content.decode()
    )
    response = alpha_client.post(f"/r/{boiler.report_token}/", VALID)
    assert response.status_code == 400
    assert not MaintenanceRequest.objects.exists()


def test_unknown_and_sequential_tokens_are_404(boiler, alpha_client):
    assert alpha_client.get(f"/r/{boiler.pk}/").status_code == 404
    assert alpha_client.get("/r/not-a-token/").status_code == 404


def test_alpha_token_is_404_on_beta(boiler, beta, beta_client):
    response = beta_client.get(f"/r/{boiler.report_token}/")
    assert response.status_code == 404
    response = beta_client.post(f"/r/{boiler.report_token}/", VALID)
    assert response.status_code == 404
    assert not MaintenanceRequest.objects.exists()  # in beta's schema
