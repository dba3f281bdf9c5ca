"""
The checks the browser tests rely on do catch what they are for: a CSP
violation, a console error, an uncaught error, an axe-core violation, a page
left unaudited; and the test server sends the strict policy.
"""

import pytest
from browser_checks import STRICT_POLICY

pytestmark = pytest.mark.django_db

BAD_PAGE = """<!doctype html><html lang="en"><head><title>Bad</title></head><body><main>
<h1>Bad</h1><script>document.title = "ran";</script><p style="color: red">styled</p>
<input type="text" name="unlabelled"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
</main></body></html>"""


@pytest.fixture
def bad_page(site, page, page_checks):
    """A page of the site's origin, under the strict policy, breaking every rule."""
    url = f"http://localhost:{site}/harness-bad-page/"
    page.route(
        url,
        lambda route: route.fulfill(
            body=BAD_PAGE,
            content_type="text/html",
            headers={"Content-Security-Policy": STRICT_POLICY},
        ),
    )
    page.goto(url)
    yield page
    # Everything caught here was on purpose.
    checks = page_checks(page)
    checks.problems.clear()
    checks.audited.update(checks.navigated)


def test_inline_script_and_style_are_reported_as_csp_violations(bad_page, page_checks):
    problems = page_checks(bad_page).problems
    assert bad_page.title() == "Bad"  # the inline script did not run
    assert any(p.startswith("CSP violation: script-src-elem refused inline") for p in problems)
    assert any(p.startswith("CSP violation: style-src-attr refused inline") for p in problems)


def test_console_errors_and_uncaught_errors_are_collected(bad_page, page_checks):
    bad_page.evaluate("console.error('boom')")
    bad_page.evaluate("setTimeout(() => { throw new Error('kaboom'); })")
    bad_page.wait_for_timeout(100)
    problems = page_checks(bad_page).problems
    assert any("console error: boom" in p for p in problems)
    assert any("page error: " in p and "kaboom" in p for p in problems)
    with pytest.raises(AssertionError, match="boom"):
        page_checks(bad_page).assert_no_problems()


def test_axe_core_lists_serious_and_critical_violations(bad_page, page_checks):
    violations = page_checks(bad_page).axe_violations(bad_page)
    assert any(v.startswith("critical label ") for v in violations), violations
    assert any(v.startswith("critical image-alt ") for v in violations), violations


def test_a_page_visited_but_not_audited_fails_the_test(site, page, page_checks):
    page.goto(f"http://localhost:{site}/signup/")
    with pytest.raises(AssertionError, match="never audited"):
        page_checks(page).assert_clean()
    page_checks(page).audited.add(page.url)


def test_the_test_server_sends_the_strict_policy_when_the_site_sends_none(site, page, audit):
    response = page.goto(f"http://localhost:{site}/signup/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    audit(page, "signup")
