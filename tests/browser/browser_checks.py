"""
What the browser tests check on every page (tests/browser/conftest.py wires it
up): console errors, uncaught page errors and Content-Security-Policy
violations as they happen, and, when a test audits a page, axe-core and a
screenshot.
"""

import re
from pathlib import Path
from urllib.parse import urldefrag

from django.conf import settings

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
AXE_URL = f"/{settings.STATIC_URL.strip('/')}/vendor/axe-core/axe.min.js"
AXE_FAILING_IMPACTS = ("serious", "critical")

# Known violations of pages outside tests/browser, reported to their owners:
# (axe rule, text in the failing element's CSS selector or HTML). Each entry hides
# only that element's failure of that rule; delete an entry once it is fixed.
# Findings to tolerate, as (rule, text in the node's HTML): none today. An entry
# here is a known bug with an owner, to be removed once it is fixed.
KNOWN_AXE_VIOLATIONS: set[tuple[str, str]] = set()

# Requests the browser makes by itself, not the page: a 404 there is no page error.
BROWSER_OWN_REQUESTS = ("/favicon.ico",)

# The project's policy (django-csp, settings.CONTENT_SECURITY_POLICY): sent by
# the test server on any response that carries none, so a page with inline
# script or style fails here even where the app does not send its own header.
STRICT_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        # Signup's form redirects to the new organisation's subdomain, and
        # browsers apply form-action to the redirect too: 'self' alone blocks it.
        "form-action 'self' http://*.localhost:*",
        "frame-ancestors 'none'",
    ]
)

# Runs in every document before its own scripts; a script added by Playwright
# is not subject to the page's CSP, the page's own scripts are.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline code"}` +
    ` in ${event.sourceFile || document.location.href}:${event.lineNumber}` +
    (event.sample ? ` (${event.sample})` : "")
  );
});
"""

RUN_AXE = """
async (impacts) => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations
    .filter((violation) => impacts.includes(violation.impact))
    .map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.map((node) => ({
        target: node.target.join(" "),
        html: node.html,
        summary: node.failureSummary,
      })),
    }));
}
"""


class StrictCSP:
    """WSGI middleware: add STRICT_POLICY to responses that have no CSP header."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            if not any(name.lower() == "content-security-policy" for name, _ in headers):
                headers = [*headers, ("Content-Security-Policy", STRICT_POLICY)]
            return start_response(status, headers, exc_info)

        return self.application(environ, start)


class PageChecks:
    """
    Collects the problems of every page opened in a browser context, and
    audits pages on request. ``problems`` must be empty at the end of a test,
    and every page the browser navigated to must have been audited.
    """

    def __init__(self, context, *, viewport, test_name, shots):
        self.viewport = viewport
        self.test_name = test_name
        self.next_shot = shots
        self.problems = []
        self.allowed = []
        self.navigated = []
        self.audited = set()
        context.expose_function("reportCspViolation", self._csp_violation)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        context.on("page", self._watch)

    def _watch(self, page):
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: page error: {error}"))
        page.on("framenavigated", lambda frame: self._navigated(page, frame))

    def _console(self, page, message):
        if message.type != "error":
            return
        source = message.location.get("url", "")
        if source.endswith(BROWSER_OWN_REQUESTS):
            return
        text = f"{message.text} ({source})" if source else message.text
        if any(pattern.search(text) for pattern in self.allowed):
            return
        self.problems.append(f"{page.url}: console error: {text}")

    def _csp_violation(self, description):
        self.problems.append(f"CSP violation: {description}")

    def _navigated(self, page, frame):
        if frame == page.main_frame and frame.url != "about:blank":
            self.navigated.append(urldefrag(frame.url).url)

    def allow_console_error(self, pattern):
        """Let console errors matching ``pattern`` pass (a page answered 403 on purpose)."""
        self.allowed.append(re.compile(pattern))

    def assert_no_problems(self):
        problems, self.problems = self.problems, []
        assert not problems, "Console errors or CSP violations:\n" + "\n".join(problems)

    def snap(self, page, name):
        """Save a full-page screenshot: screenshots/<viewport>/<test>-<n>-<name>.png."""
        folder = SCREENSHOTS / self.viewport
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.test_name}-{self.next_shot():02d}-{name}.png"
        page.screenshot(path=path, full_page=True)
        return path

    def axe_violations(self, page):
        """The serious and critical axe-core violations on the page, one line each."""
        if not page.evaluate("typeof axe !== 'undefined'"):
            # Same origin, so the page's own script-src 'self' lets it load.
            page.add_script_tag(url=AXE_URL)
        lines = []
        for violation in page.evaluate(RUN_AXE, list(AXE_FAILING_IMPACTS)):
            nodes = [
                f"{node['target']}: {node['summary']}"
                for node in violation["nodes"]
                if not any(
                    rule == violation["id"] and (text in node["target"] or text in node["html"])
                    for rule, text in KNOWN_AXE_VIOLATIONS
                )
            ]
            if nodes:
                lines.append(
                    f"{violation['impact']} {violation['id']} ({violation['help']}):\n    "
                    + "\n    ".join(nodes)
                )
        return lines

    def audit(self, page, name):
        """
        Check the page now shown: screenshot, no console error or CSP violation
        so far, no serious or critical axe-core violation.
        """
        page.wait_for_load_state("load")
        self.snap(page, name)
        self.assert_no_problems()
        violations = self.axe_violations(page)
        assert not violations, f"axe-core on {page.url} ({self.viewport}):\n" + "\n".join(
            violations
        )
        self.audited.add(urldefrag(page.url).url)

    def assert_clean(self):
        self.assert_no_problems()
        unaudited = [url for url in dict.fromkeys(self.navigated) if url not in self.audited]
        assert not unaudited, "Pages visited but never audited:\n" + "\n".join(unaudited)
