"""
In a real browser (Playwright driving Debian's Chromium): the signup page's
live subdomain check, and a whole signup, from the form to the new
organisation's dashboard on its own subdomain.

The site runs in a server thread with connections of its own, so it sees
only committed rows: the session's tenants, and what the signup commits,
which the test deletes again.
"""

import uuid

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connections
from django.test.testcases import LiveServerThread
from django_tenants.utils import schema_context
from playwright.sync_api import expect, sync_playwright

from tenants.models import DeletedTenant, Tenant
from tenants.services import tenant_delete

pytestmark = pytest.mark.django_db

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    # Every host of the site, subdomains included, is this machine.
    "--host-resolver-rules=MAP localhost 127.0.0.1, MAP *.localhost 127.0.0.1",
]


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    """The site, served on a free port of 127.0.0.1; yields its port."""
    with django_db_blocker.unblock():
        server = LiveServerThread("127.0.0.1", StaticFilesHandler)
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise server.error
        yield server.port
        server.terminate()


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an event loop running in this thread, which
    # Django takes for async code calling the ORM: the test's transaction is
    # begun and rolled back here, while the site runs in threads of its own.
    # With the loop running, this thread's connections are not the ones it
    # has without (asgiref keys them by context): close them while it runs.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()
        connections.close_all()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_the_signup_page_says_at_once_whether_a_subdomain_is_free(site, page):
    page.goto(f"http://localhost:{site}/signup/")
    subdomain = page.get_by_label("Subdomain")
    status = page.locator("#subdomain-status")

    subdomain.fill("alpha")
    expect(status).to_have_text("This subdomain is already taken.")
    expect(status).to_have_class("errorlist")

    subdomain.fill("www")
    expect(status).to_contain_text("reserved")

    subdomain.fill("-bad-")
    expect(status).to_contain_text("hyphen")

    subdomain.fill(f"free-{uuid.uuid4().hex[:8]}")
    expect(status).to_have_text("Available")
    expect(status).to_have_class("ok")


def test_a_signup_in_the_browser_ends_on_the_new_organisations_dashboard(
    site, page, in_own_connection
):
    subdomain = f"browser-{uuid.uuid4().hex[:8]}"
    page.goto(f"http://localhost:{site}/signup/")
    page.get_by_label("Organisation name").fill("Browser Builders")
    page.get_by_label("Subdomain").fill(subdomain)
    page.get_by_label("Your name").fill("Bea Browser")
    page.get_by_label("Your e-mail").fill("bea+admin@browser.example")
    page.get_by_label("Password").fill("Browser-pass-2024")
    try:
        page.get_by_role("button", name="Create my organisation").click()

        # Sent to the log-in page of the new subdomain, e-mail filled in.
        expect(page).to_have_url(
            f"http://{subdomain}.localhost:{site}/accounts/login/"
            "?email=bea%2Badmin%40browser.example"
        )
        expect(page.locator("input[name=username]")).to_have_value("bea+admin@browser.example")
        page.get_by_label("Password").fill("Browser-pass-2024")
        page.get_by_role("button", name="Log in").click()

        # An admin's home is the dashboard, under the organisation's name.
        expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
        expect(page.locator(".navbar-brand")).to_have_text("Browser Builders")
        expect(page.get_by_text("bea+admin@browser.example")).to_be_visible()
        # The session and CSRF cookies are the new subdomain's alone (host-only),
        # never the parent domain's, which every tenant would be sent.
        cookies = page.context.cookies(f"http://{subdomain}.localhost:{site}/")
        assert {c["name"] for c in cookies} >= {"sessionid", "csrftoken"}
        assert {c["domain"] for c in cookies} == {f"{subdomain}.localhost"}
    finally:
        in_own_connection(delete_committed_tenant, subdomain)


def delete_committed_tenant(subdomain):
    with schema_context("public"):
        for tenant in Tenant.objects.filter(subdomain=subdomain):
            tenant_delete(tenant=tenant, actor="test")
            DeletedTenant.objects.filter(schema_name=tenant.schema_name).delete()
