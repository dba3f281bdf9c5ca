"""
The journeys of issue 12's acceptance, in Chromium at 1280 and at 375 px
wide, every page audited (console, CSP, axe-core, screenshot):

- a new organisation's first day: sign up, log in on the new subdomain,
  invite a technician (who sets a password from the e-mail), create a
  location and an asset, file an electrical request with its details, assign
  it, the technician starts and resolves it, the requester sees it resolved
  and the dashboard counts it; then someone without an account reports a
  problem from the asset's QR page;
- a password reset from the log-in page;
- a suspended organisation shows its page.
"""

import re
import uuid

import pytest
from browser_steps import (
    PASSWORD,
    choose,
    delete_committed_tenant,
    field,
    go,
    link_in,
    log_in,
    log_out,
    mail_to,
    sign_up,
    tenant_schema,
    tenant_url,
)
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from assets.models import Asset
from tenants.services import tenant_suspend

pytestmark = pytest.mark.django_db

ADMIN = "bea@first-day.example"
TECHNICIAN = "theo@first-day.example"


def test_a_new_organisations_first_day(
    site, page, new_page, audit, viewport, in_own_connection, mailoutbox
):
    subdomain = f"day-{viewport}-{uuid.uuid4().hex[:6]}"
    try:
        first_day(site, page, new_page, audit, in_own_connection, mailoutbox, subdomain)
    finally:
        in_own_connection(delete_committed_tenant, subdomain)


def first_day(site, page, new_page, audit, in_own_connection, mailoutbox, subdomain):
    sign_up(page, audit, site, subdomain=subdomain, email=ADMIN)
    schema = in_own_connection(tenant_schema, subdomain)

    # The admin invites a technician.
    go(page, "Settings")
    audit(page, "settings")
    page.goto(tenant_url(site, subdomain, "/accounts/users/"))
    audit(page, "users")
    page.get_by_role("link", name=re.compile("Invite")).click()
    audit(page, "invite")
    field(page, "E-mail address").fill(TECHNICIAN)
    field(page, "Full name").fill("Theo Tech")
    page.get_by_label("Technician (built-in)").check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text(TECHNICIAN).first).to_be_visible()
    audit(page, "invited")

    # The technician follows the link in the e-mail and sets a password.
    [invitation] = mail_to(mailoutbox, TECHNICIAN)
    technician = new_page()
    technician.goto(tenant_url(site, subdomain, link_in(invitation)))
    audit(technician, "invitation")
    field(technician, "New password").fill(PASSWORD)
    field(technician, "New password confirmation").fill(PASSWORD)
    technician.get_by_role("button", name="Set password").click()
    expect(technician.get_by_role("button", name="Set password")).to_have_count(0)
    if technician.get_by_role("button", name="Log in").count():
        log_in(technician, audit, TECHNICIAN, name="technician-login")
    audit(technician, "technician-home")

    # The admin creates a location and an asset in it.
    go(page, "Assets")
    audit(page, "assets")
    page.goto(tenant_url(site, subdomain, "/assets/locations/"))
    audit(page, "locations")
    page.get_by_role("link", name="New location").click()
    audit(page, "location-form")
    field(page, "Name").fill("North plant")
    field(page, "Kind").select_option("site")
    page.get_by_role("button", name=re.compile("Save|Create")).click()
    expect(page.get_by_text("North plant").first).to_be_visible()
    audit(page, "location-created")
    go(page, "Assets")
    page.get_by_role("link", name="New asset").click()
    audit(page, "asset-form")
    field(page, "Name").fill("Main switchboard")
    field(page, "Asset tag").fill("SB-1")
    choose(field(page, "Location"), "North plant")
    page.get_by_role("button", name=re.compile("Save|Create")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Main switchboard")
    audit(page, "asset")

    # ... and files an electrical request about it, with its details.
    go(page, "Requests")
    audit(page, "requests")
    page.get_by_role("link", name="New request").click()
    audit(page, "request-form")
    field(page, "Title").fill("Breaker trips every morning")
    field(page, "Type").select_option("electrical")
    field(page, "Voltage (V)").fill("400")
    field(page, "Circuit / panel").fill("B2")
    field(page, "Priority").select_option("high")
    choose(field(page, "Asset"), "Main switchboard")
    page.get_by_role("button", name="File request").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Breaker trips every morning")
    expect(page.get_by_text("400", exact=True)).to_be_visible()
    audit(page, "request-filed")
    request_url = page.url

    # A manager (the admin leads too) assigns it to the technician.
    triage = page.get_by_role("button", name="Triage")
    if triage.count():
        triage.click()
        audit(page, "request-triaged")
    choose(field(page, "Technician"), "Theo Tech")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator(".page-header")).to_contain_text("Assigned")
    audit(page, "request-assigned")

    # The technician finds it in their queue, starts and resolves it.
    technician.goto(tenant_url(site, subdomain, "/"))
    audit(technician, "technician-queue")
    expect(technician.get_by_text("Breaker trips every morning").first).to_be_visible()
    technician.goto(request_url)
    audit(technician, "technician-request")
    technician.get_by_role("button", name="Start work").click()
    expect(technician.get_by_role("button", name="Resolve")).to_be_visible()
    audit(technician, "technician-started")
    technician.get_by_label("Note").fill("Replaced the breaker.")
    technician.get_by_role("button", name="Resolve").click()
    expect(technician.get_by_role("button", name="Resolve")).to_have_count(0)
    audit(technician, "technician-resolved")

    # The requester sees it resolved, and the dashboard counts it.
    page.goto(request_url)
    expect(page.locator(".page-header")).to_contain_text("Resolved")
    expect(page.get_by_text("Replaced the breaker.")).to_be_visible()
    audit(page, "request-resolved")
    go(page, "Dashboard")
    resolved = page.locator("[data-chart-table=status] tr", has_text="Resolved")
    expect(resolved.locator("td")).to_have_text("1")
    expect(page.locator("#kpi-mttr .kpi-value")).not_to_have_text("—")
    audit(page, "dashboard")

    # Someone without an account reports a problem from the asset's QR code.
    token = in_own_connection(report_token, schema, "SB-1")
    visitor = new_page()
    visitor.goto(tenant_url(site, subdomain, f"/r/{token}/"))
    audit(visitor, "qr-report")
    visitor.get_by_label("Your name").fill("Vic Visitor")
    visitor.get_by_label("E-mail or phone").fill("vic@visitor.example")
    visitor.get_by_label("What is wrong?").fill("Burning smell near the switchboard")
    visitor.get_by_role("button", name=re.compile("Send")).click()
    expect(visitor.get_by_text(re.compile("Thank you"))).to_be_visible()
    audit(visitor, "qr-report-sent")

    page.goto(tenant_url(site, subdomain, "/requests/"))
    expect(page.get_by_text("Burning smell near the switchboard").first).to_be_visible()
    audit(page, "requests-with-report")
    log_out(page)
    audit(page, "logged-out")


def report_token(schema, asset_tag):
    with schema_context(schema):
        return Asset.objects.get(asset_tag=asset_tag).report_token


def test_a_forgotten_password_is_reset_from_the_login_page(
    site, page, audit, viewport, committed_tenant, in_own_connection, mailoutbox
):
    tenant = committed_tenant(f"reset-{viewport}-{uuid.uuid4().hex[:6]}")
    email = f"rita@{tenant.subdomain}.example"
    in_own_connection(make_requester, tenant.schema_name, email)

    page.goto(tenant_url(site, tenant.subdomain, "/accounts/login/"))
    audit(page, "login")
    page.get_by_role("link", name="Forgot your password?").click()
    audit(page, "reset-form")
    page.get_by_label(re.compile("e-?mail", re.I)).fill(email)
    page.get_by_role("button", name=re.compile("reset|send", re.I)).click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    audit(page, "reset-sent")

    [mail] = mail_to(mailoutbox, email)
    page.goto(tenant_url(site, tenant.subdomain, link_in(mail)))
    audit(page, "reset-link")
    field(page, "New password").fill("Fresh-start-2025")
    field(page, "New password confirmation").fill("Fresh-start-2025")
    page.get_by_role("button", name=re.compile("password", re.I)).click()
    audit(page, "reset-done")
    page.goto(tenant_url(site, tenant.subdomain, "/accounts/login/"))
    log_in(page, audit, email, "Fresh-start-2025", name="login-new-password")
    expect(page.locator(".navbar-brand")).to_contain_text(tenant.name)
    audit(page, "logged-in")


def make_requester(schema, email):
    with schema_context(schema):
        roles = roles_provision_defaults()
        user_create(email=email, password="Old-password-2024", roles=[roles[BuiltinRole.REQUESTER]])


def test_a_suspended_organisation_shows_its_page(
    site, page, audit, page_checks, viewport, committed_tenant, in_own_connection
):
    tenant = committed_tenant(f"gone-{viewport}-{uuid.uuid4().hex[:6]}")
    in_own_connection(suspend, tenant)
    # The page is the answer of a 403, which Chromium also logs to the console.
    page_checks(page).allow_console_error(r"status of 403")

    response = page.goto(tenant_url(site, tenant.subdomain, "/accounts/login/"))
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Account suspended")
    expect(page.get_by_text("suspended")).not_to_have_count(0)
    audit(page, "suspended")


def suspend(tenant):
    tenant_suspend(tenant=tenant, reason="Unpaid invoices", actor="test")
