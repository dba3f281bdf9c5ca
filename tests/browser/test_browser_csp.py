"""
No page breaks the Content-Security-Policy in a real browser: the main
domain's pages, a tenant's login and the API's Swagger UI (which has a policy
of its own), loaded in Chromium with every console message watched. The
policy on every kind of response is tests/test_csp.py's.
"""

import pytest


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
