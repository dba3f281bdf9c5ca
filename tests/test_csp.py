"""
Content-Security-Policy on every kind of response (django-csp). That no page
breaks it in a real browser is tests/browser/test_browser_csp.py's.
"""

import pytest

from accounts.roles import BuiltinRole
from tenants.services import tenant_suspend
from tests.conftest import TenantClient


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: " ".join(part.split()[1:])
        for part in (p.strip() for p in header.split(";"))
        if part
    }


def assert_strict(response):
    directives = policy(response)
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/login/",  # a public tenant page
        "/",  # a redirect to the login
        "/no-such-page/",  # a 404
        "/api/v1/",  # the API's JSON 404
        "/api/v1/schema/",  # the OpenAPI document
    ],
)
def test_tenant_responses_carry_the_policy(alpha_client, path):
    response = alpha_client.get(path)

    assert response.status_code < 500
    assert_strict(response)


def test_signed_in_pages_and_api_answers_carry_it(alpha, alpha_client, api_for, make_people):
    client, _user, _key = api_for(alpha)
    admin = make_people(alpha, boss=BuiltinRole.ADMIN)["boss"]
    alpha_client.force_login(admin)

    for response in (
        alpha_client.get("/accounts/users/"),
        alpha_client.get("/settings/audit/"),
        client.get("/api/v1/me/"),
    ):
        assert response.status_code == 200
        assert_strict(response)


@pytest.mark.parametrize("path", ["/", "/signup/", "/admin/login/", "/api/v1/platform/"])
def test_main_domain_responses_carry_it(public_client, path):
    response = public_client.get(path)

    assert response.status_code < 500
    assert_strict(response)


def test_answers_made_before_routing_carry_it(public_client, make_tenant):
    # Unknown hosts and suspended tenants are answered by middleware before any view.
    tenant = make_tenant("gamma")
    tenant_suspend(tenant=tenant, reason="Chargeback", actor="test")

    for response in (
        TenantClient(tenant).get("/accounts/login/"),
        public_client.get("/", HTTP_HOST="nobody.localhost"),
    ):
        assert response.status_code >= 400
        assert_strict(response)


def test_swagger_ui_may_have_inline_styles_and_never_inline_scripts(alpha_client):
    directives = policy(alpha_client.get("/api/v1/docs/"))

    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self' 'unsafe-inline'"
    assert directives["frame-ancestors"] == "'none'"


def test_swagger_ui_runs_without_inline_script(alpha_client):
    page = alpha_client.get("/api/v1/docs/").content.decode()
    script = alpha_client.get("/api/v1/docs/?script=")

    # Every <script> of the page has a src (what script-src 'self' allows).
    assert "<script>" not in page.replace(" ", "")
    assert "?script=" in page
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()
