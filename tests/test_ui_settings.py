"""
The settings area: its layout and menu by role, organisation details,
branding (contrast check, plan gate, the per-tenant stylesheet and logo),
SLA targets, and bounded queries on the list pages.
"""

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tenants.utils import tenant_context
from PIL import Image

from accounts.roles import BuiltinRole
from requests_app.selectors import request_settings_get
from tenants.branding import (
    branding_version,
    contrast_ratio,
    relative_luminance,
    validate_primary_color,
)
from tenants.models import Tenant
from tenants.services import tenant_update


@pytest.fixture
def people(alpha, make_people):
    return make_people(
        alpha,
        admin=BuiltinRole.ADMIN,
        manager=BuiltinRole.MANAGER,
        tech=BuiltinRole.TECHNICIAN,
        ann=BuiltinRole.REQUESTER,
    )


@pytest.fixture
def admin_client(alpha_client, people):
    alpha_client.force_login(people["admin"])
    return alpha_client


@pytest.fixture
def branded(alpha):
    """Alpha with custom branding in its plan."""
    tenant_update(tenant=alpha, actor="test", feature_overrides={"custom_branding": True})
    return alpha


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
    return Path(settings.MEDIA_ROOT)


def png(colour="red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def fresh(tenant) -> Tenant:
    return Tenant.objects.get(pk=tenant.pk)


# --- Contrast (WCAG relative luminance) ------------------------------------------------


def test_relative_luminance_of_black_and_white():
    assert relative_luminance("#000000") == 0
    assert relative_luminance("#ffffff") == pytest.approx(1)


@pytest.mark.parametrize(
    "first, second, ratio",
    [("#000000", "#ffffff", 21), ("#ffffff", "#ffffff", 1), ("#767676", "#ffffff", 4.54)],
)
def test_contrast_ratio_matches_wcag(first, second, ratio):
    assert contrast_ratio(first, second) == pytest.approx(ratio, abs=0.01)
    assert contrast_ratio(second, first) == pytest.approx(ratio, abs=0.01)


@pytest.mark.parametrize("colour", ["#1f6feb", "#0d6efd", "#212529", "#767676"])
def test_dark_enough_colours_pass(colour):
    validate_primary_color(colour)


@pytest.mark.parametrize("colour", ["#ffcc00", "#777777", "#ffffff", "#7fdbff"])
def test_light_colours_are_refused_saying_why(colour):
    with pytest.raises(ValidationError) as caught:
        validate_primary_color(colour)
    assert caught.value.code == "low_contrast"
    assert "too light" in caught.value.messages[0] and "4.5:1" in caught.value.messages[0]


def test_a_malformed_colour_is_refused():
    with pytest.raises(ValidationError):
        validate_primary_color("red")


# --- Layout and who may open what ------------------------------------------------------


def test_settings_opens_the_first_section_the_user_may_see(alpha_client, people):
    alpha_client.force_login(people["admin"])
    assert alpha_client.get("/settings/")["Location"] == "/settings/organisation/"
    alpha_client.force_login(people["manager"])
    assert alpha_client.get("/settings/")["Location"] == "/settings/requests/"


@pytest.mark.parametrize("who", ["tech", "ann"])
def test_technicians_and_requesters_have_no_settings(alpha_client, people, who):
    alpha_client.force_login(people[who])
    assert alpha_client.get("/settings/").status_code == 403
    for url in ["/settings/organisation/", "/settings/branding/", "/settings/requests/"]:
        assert alpha_client.get(url).status_code == 403
    assert b'href="/settings/"' not in alpha_client.get("/accounts/profile/").content


def test_anonymous_visitors_are_sent_to_log_in(alpha_client, people):
    for url in ["/settings/", "/settings/organisation/", "/settings/requests/"]:
        response = alpha_client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_menu_lists_what_each_role_may_open(alpha_client, people):
    alpha_client.force_login(people["admin"])
    admin_menu = alpha_client.get("/settings/organisation/").content.decode()
    for href in [
        "/settings/organisation/",
        "/settings/branding/",
        "/settings/requests/",
        "/accounts/users/",
        "/accounts/roles/",
        "/accounts/api-keys/",
        "/settings/webhooks/",
    ]:
        assert f'href="{href}"' in admin_menu
    assert 'aria-current="page" href="/settings/organisation/"' in admin_menu

    alpha_client.force_login(people["manager"])
    manager_menu = alpha_client.get("/settings/requests/").content.decode()
    assert 'href="/settings/requests/"' in manager_menu
    assert 'href="/accounts/users/"' in manager_menu
    assert 'href="/settings/organisation/"' not in manager_menu
    assert 'href="/settings/branding/"' not in manager_menu
    assert 'href="/accounts/api-keys/"' not in manager_menu


def test_the_plan_page_is_in_the_menu_of_whoever_may_open_it(alpha_client, alpha, people):
    plan = reverse("billing:plan")
    alpha_client.force_login(people["manager"])
    assert f'href="{plan}"' not in alpha_client.get("/settings/requests/").content.decode()
    assert alpha_client.get(plan).status_code == 403

    with tenant_context(alpha):
        people["manager"].user_permissions.add(
            Permission.objects.get(content_type__app_label="billing", codename="manage_billing")
        )
    assert f'href="{plan}"' in alpha_client.get("/settings/requests/").content.decode()
    assert alpha_client.get(plan).status_code == 200


def test_a_manager_cannot_change_the_organisation(alpha_client, alpha, people):
    alpha_client.force_login(people["manager"])
    response = alpha_client.post(
        "/settings/organisation/", {"name": "Taken over", "timezone": "UTC"}
    )
    assert response.status_code == 403
    assert fresh(alpha).name == "Alpha Works"


# --- Organisation ----------------------------------------------------------------------


def test_an_admin_changes_name_time_zone_and_contact(admin_client, alpha):
    page = admin_client.get("/settings/organisation/").content.decode()
    assert 'value="Alpha Works"' in page

    response = admin_client.post(
        "/settings/organisation/",
        {
            "name": "Alpha Plant",
            "timezone": "Europe/Paris",
            "contact_name": "Ada",
            "contact_phone": "+33 1 23",
            "billing_email": "ops@alpha.example",
        },
        follow=True,
    )

    assert "Organisation details saved." in response.content.decode()
    tenant = fresh(alpha)
    assert (tenant.name, tenant.timezone, tenant.contact_name, tenant.billing_email) == (
        "Alpha Plant",
        "Europe/Paris",
        "Ada",
        "ops@alpha.example",
    )


def test_bad_organisation_input_is_shown_and_nothing_written(admin_client, alpha):
    response = admin_client.post(
        "/settings/organisation/",
        {"name": "", "timezone": "Mars/Olympus", "billing_email": "not-an-address"},
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in content
    assert "Select a valid choice" in content
    assert "Enter a valid email address." in content
    assert fresh(alpha).name == "Alpha Works"


# --- Branding --------------------------------------------------------------------------


def test_branding_is_refused_without_the_plan_feature(admin_client, alpha):
    page = admin_client.get("/settings/branding/").content.decode()
    assert "Custom branding is not part of your Free plan" in page

    response = admin_client.post("/settings/branding/", {"primary_color": "#8a1538"})

    assert "Custom branding is not included in your Free plan." in response.content.decode()
    assert fresh(alpha).primary_color == "#1f6feb"


def test_a_colour_too_light_is_refused_with_the_reason(admin_client, branded):
    response = admin_client.post("/settings/branding/", {"primary_color": "#ffcc00"})

    content = response.content.decode()
    assert response.status_code == 200
    assert "#ffcc00 is too light" in content and "4.5:1" in content
    assert fresh(branded).primary_color == "#1f6feb"


def test_the_brand_colour_reaches_every_page_through_its_stylesheet(admin_client, branded, people):
    before = admin_client.get("/accounts/profile/").content.decode()
    assert "/branding/" not in before  # the product's own look: no stylesheet linked

    admin_client.post("/settings/branding/", {"primary_color": "#8A1538"}, follow=True)

    tenant = fresh(branded)
    assert tenant.primary_color == "#8a1538"
    version = branding_version(tenant)
    page = admin_client.get("/accounts/profile/").content.decode()
    assert f'<link rel="stylesheet" href="/branding/{version}.css">' in page
    css = admin_client.get(f"/branding/{version}.css")
    assert css["Content-Type"].startswith("text/css")
    assert "immutable" in css["Cache-Control"]
    body = css.content.decode()
    assert "--bs-primary: #8a1538;" in body
    assert "--bs-primary-rgb: 138, 21, 56;" in body
    assert "--bs-link-color: #8a1538;" in body
    assert "--bs-btn-bg: #8a1538;" in body
    assert ".bg-primary" in body
    # Even the login page, before anyone is signed in.
    admin_client.logout()
    assert f"/branding/{version}.css" in admin_client.get("/accounts/login/").content.decode()


def test_branding_is_not_applied_once_the_plan_loses_it(admin_client, branded):
    admin_client.post("/settings/branding/", {"primary_color": "#8a1538"})
    tenant_update(tenant=fresh(branded), actor="test", feature_overrides={})
    assert "/branding/" not in admin_client.get("/accounts/profile/").content.decode()


def test_a_logo_is_uploaded_shown_in_the_header_and_served(admin_client, branded, media):
    response = admin_client.post(
        "/settings/branding/",
        {"primary_color": "#1f6feb", "logo": SimpleUploadedFile("logo.png", png(), "image/png")},
        follow=True,
    )
    assert "Branding saved." in response.content.decode()

    tenant = fresh(branded)
    assert tenant.logo.name.startswith("branding/t_alpha")
    assert (media / "public" / tenant.logo.name).exists()
    logo_url = f"/branding/logo/{branding_version(tenant)}/"
    assert (
        f'class="brand-logo" src="{logo_url}"'
        in admin_client.get("/accounts/profile/").content.decode()
    )
    served = admin_client.get(logo_url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == png()


def test_a_logo_that_is_not_an_image_is_refused(admin_client, branded, media):
    fake = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", "image/png")
    response = admin_client.post("/settings/branding/", {"primary_color": "#1f6feb", "logo": fake})
    assert "not what its name says" in response.content.decode()
    assert not fresh(branded).logo

    pdf = SimpleUploadedFile("logo.pdf", b"%PDF-1.4 tiny", "application/pdf")
    response = admin_client.post("/settings/branding/", {"primary_color": "#1f6feb", "logo": pdf})
    assert "The logo must be a PNG, JPEG, WebP or GIF image." in response.content.decode()
    assert not fresh(branded).logo


def test_a_manager_cannot_change_branding(alpha_client, branded, people):
    alpha_client.force_login(people["manager"])
    assert alpha_client.post("/settings/branding/", {"primary_color": "#000000"}).status_code == 403
    assert fresh(branded).primary_color == "#1f6feb"


# --- SLA targets and auto-close --------------------------------------------------------


def test_a_manager_sets_sla_hours_and_auto_close(alpha_client, people):
    alpha_client.force_login(people["manager"])
    page = alpha_client.get("/settings/requests/").content.decode()
    assert 'name="sla_hours_urgent"' in page and 'value="4"' in page

    response = alpha_client.post(
        "/settings/requests/",
        {
            "sla_hours_urgent": "2",
            "sla_hours_high": "8",
            "sla_hours_medium": "48",
            "sla_hours_low": "120",
            "auto_close_days": "",
        },
        follow=True,
    )

    assert "Request settings saved." in response.content.decode()
    saved = request_settings_get()
    assert (saved.sla_hours_urgent, saved.sla_hours_low, saved.auto_close_days) == (2, 120, None)


def test_bad_sla_values_are_refused(alpha_client, people):
    alpha_client.force_login(people["admin"])
    response = alpha_client.post(
        "/settings/requests/",
        {
            "sla_hours_urgent": "0",
            "sla_hours_high": "8",
            "sla_hours_medium": "48",
            "sla_hours_low": "120",
            "auto_close_days": "400",
        },
    )
    content = response.content.decode()
    assert "Ensure this value is greater than or equal to 1." in content
    assert "Ensure this value is less than or equal to 365." in content
    assert request_settings_get().sla_hours_urgent == 4


# --- Bounded queries -------------------------------------------------------------------


def _count(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/accounts/users/", "/accounts/roles/", "/accounts/api-keys/"])
def test_settings_lists_stay_flat_as_rows_grow(admin_client, alpha, people, url):
    from accounts.api_keys import api_key_create
    from accounts.services import user_create

    def add(count, start):
        for n in range(start, start + count):
            user = user_create(email=f"bulk{n}@alpha.example", password=None)
            api_key_create(by=people["admin"], user=user, name=f"k{n}", access="read_only")

    add(3, 0)
    few = _count(admin_client, url)
    add(27, 3)
    many = _count(admin_client, url)
    assert many == few
