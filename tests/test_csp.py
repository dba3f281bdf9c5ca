"""Content-Security-Policy on every kind of response (django-csp)."""

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connections
from django.test.testcases import LiveServerThread
from playwright.sync_api import sync_playwright

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


# --- In a real browser: no page breaks the policy ------------------------------------------

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--host-resolver-rules=MAP localhost 127.0.0.1, MAP *.localhost 127.0.0.1",
]


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    """The site in a server thread with connections of its own (it sees committed rows)."""
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
    # See tests/test_browser.py: Playwright's event loop and Django's connections.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()
        connections.close_all()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("host", "path", "ready"),
    [
        ("localhost", "/", "body"),
        ("localhost", "/signup/", "#id_subdomain"),
        ("localhost", "/admin/login/", "#id_username"),
        ("alpha.localhost", "/accounts/login/", "#id_username"),
        ("alpha.localhost", "/api/v1/docs/", ".swagger-ui .info"),
    ],
)
def test_pages_run_without_a_policy_violation(site, browser, host, path, ready):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on("pageerror", lambda error: violations.append(str(error)))
    try:
        response = page.goto(f"http://{host}:{site}{path}")
        page.wait_for_selector(ready)
        page.wait_for_load_state("networkidle")
    finally:
        context.close()

    assert "default-src 'self'" in response.headers["content-security-policy"].split("; ")
    assert violations == []
