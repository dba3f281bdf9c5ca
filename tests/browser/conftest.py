"""
The browser test harness: the site served from a thread, Debian's Chromium
driven by Playwright at a desktop and a phone width, and checks run on every
page a test visits (``audit``): no console error, no Content-Security-Policy
violation, no serious or critical axe-core violation, and a screenshot.

The site runs in a server thread with connections of its own, so it sees only
committed rows: the session's tenants, and what the tests commit (signups,
``committed_tenant``), which they delete again. Tests read and write the
database only through ``in_own_connection``.
"""

import pytest
from browser_checks import PageChecks, StrictCSP
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connections
from django.test.testcases import LiveServerThread
from playwright.sync_api import expect, sync_playwright

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

# The two widths every page must work at: a laptop, and a phone in a plant room.
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True},
}


@pytest.fixture(scope="session")
def site(django_db_setup, django_db_blocker):
    """The site, served on a free port of 127.0.0.1; yields its port."""
    with django_db_blocker.unblock():
        server = LiveServerThread("127.0.0.1", lambda app: StrictCSP(StaticFilesHandler(app)))
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise server.error
        yield server.port
        server.terminate()


@pytest.fixture(scope="session")
def browser():
    # A machine shared with other test runs answers slowly at times.
    expect.set_options(timeout=15_000)
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


@pytest.fixture(params=list(VIEWPORTS), ids=["1280", "375"])
def viewport(request):
    """``"desktop"`` (1280 x 800) or ``"phone"`` (375 x 812): every browser test runs at both."""
    return request.param


class Browsing:
    """
    The browser contexts of one test, each a separate visitor (own cookies)
    with its own PageChecks; every one must be clean when the test passes.
    """

    def __init__(self, browser, viewport, test_name):
        self.browser = browser
        self.viewport = viewport
        self.test_name = test_name
        self.checks = {}

    def new_page(self):
        """A page in a new context: another visitor, logged out."""
        context = self.browser.new_context(**VIEWPORTS[self.viewport])
        context.set_default_timeout(30_000)
        self.checks[context] = PageChecks(
            context, viewport=self.viewport, test_name=self.test_name, shots=self.shots
        )
        return context.new_page()

    def shots(self):
        # One numbering for all visitors, so screenshots sort in journey order.
        self._shots = getattr(self, "_shots", 0) + 1
        return self._shots

    def of(self, page):
        return self.checks[page.context]

    def audit(self, page, name):
        self.of(page).audit(page, name)

    def snap(self, page, name):
        return self.of(page).snap(page, name)

    def close(self, passed):
        try:
            if passed:
                for checks in self.checks.values():
                    checks.assert_clean()
        finally:
            for context in self.checks:
                context.close()


@pytest.fixture
def browsing(request, browser, viewport):
    browsing = Browsing(browser, viewport, request.node.originalname)
    yield browsing
    report = getattr(request.node, "rep_call", None)
    browsing.close(passed=report is not None and report.passed)


@pytest.fixture
def page(browsing):
    """A page of a new browser context at the test's viewport, checked as it goes."""
    return browsing.new_page()


@pytest.fixture
def new_page(browsing):
    """``new_page()``: a page for a further visitor (a context of its own, logged out)."""
    return browsing.new_page


@pytest.fixture
def audit(browsing):
    """
    ``audit(page, name)``: wait for the page to load, save a screenshot named
    ``name``, then fail on any console error or CSP violation so far and on
    serious or critical axe-core violations (listing them).
    """
    return browsing.audit


@pytest.fixture
def snap(browsing):
    """``snap(page, name)``: a full-page screenshot under tests/browser/screenshots/."""
    return browsing.snap


@pytest.fixture
def page_checks(browsing):
    """``page_checks(page)``: the PageChecks of the page's context (to allow a console error)."""
    return browsing.of


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keeps the call phase's report on the test, for fixtures to look at.
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report
