"""
The public signup in the browser: the live subdomain check, and a whole
signup, from the form to the new organisation's dashboard on its own
subdomain (deleted again afterwards).
"""

import uuid

import pytest
from browser_steps import delete_committed_tenant, sign_up
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db


def test_the_signup_page_says_at_once_whether_a_subdomain_is_free(site, page, audit):
    page.goto(f"http://localhost:{site}/signup/")
    audit(page, "signup")
    subdomain = page.get_by_label("Subdomain")
    status = page.locator("#subdomain-status")

    subdomain.fill("alpha")
    expect(status).to_have_text("This subdomain is already taken.")

    subdomain.fill("www")
    expect(status).to_contain_text("reserved")

    subdomain.fill("-bad-")
    expect(status).to_contain_text("hyphen")

    subdomain.fill(f"free-{uuid.uuid4().hex[:8]}")
    expect(status).to_have_text("Available")
    audit(page, "signup-available")


def test_a_signup_in_the_browser_ends_on_the_new_organisations_dashboard(
    site, page, audit, in_own_connection
):
    subdomain = f"browser-{uuid.uuid4().hex[:8]}"
    try:
        sign_up(page, audit, site, subdomain=subdomain, email="bea+admin@browser.example")
        expect(page.locator(".navbar .user-email")).to_have_text("Bea Browser")
        # The session and CSRF cookies are the new subdomain's alone (host-only),
        # never the parent domain's, which every tenant would be sent.
        cookies = page.context.cookies(f"http://{subdomain}.localhost:{site}/")
        assert {c["name"] for c in cookies} >= {"sessionid", "csrftoken"}
        assert {c["domain"] for c in cookies} == {f"{subdomain}.localhost"}
    finally:
        in_own_connection(delete_committed_tenant, subdomain)
