"""
Steps the browser journeys share (signing up, logging in, using the navbar,
reading the mail the site sent) and the database helpers they run through
``in_own_connection``: the site's threads see committed rows only.
"""

import re

from django_tenants.utils import schema_context
from playwright.sync_api import expect

from tenants.models import DeletedTenant, Tenant
from tenants.services import tenant_delete

PASSWORD = "Browser-pass-2024"
LINK = re.compile(r"https?://[^/\s]+(/\S*)")


def field(page, label):
    """The form field labelled ``label`` exactly (Django's label_tag adds a colon)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def choose(select, text):
    """Select the option of ``select`` whose text contains ``text``."""
    value = select.locator("option", has_text=text).first.get_attribute("value")
    select.select_option(value)


def tenant_url(site, subdomain, path="/"):
    return f"http://{subdomain}.localhost:{site}{path}"


def sign_up(page, audit, site, *, subdomain, email, name="Browser Builders"):
    """Sign up on the main domain, then log in on the new subdomain."""
    page.goto(f"http://localhost:{site}/signup/")
    audit(page, "signup")
    page.get_by_label("Organisation name").fill(name)
    page.get_by_label("Subdomain").fill(subdomain)
    page.get_by_label("Your name").fill("Bea Browser")
    page.get_by_label("Your e-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    expect(page.locator("#subdomain-status")).to_have_text("Available")
    page.get_by_role("button", name="Create my organisation").click()

    # Sent to the log-in page of the new subdomain, e-mail filled in.
    # Creating the organisation's schema takes a while.
    login_url = re.compile(re.escape(tenant_url(site, subdomain, "/accounts/login/")))
    expect(page).to_have_url(login_url, timeout=90_000)
    expect(page.locator("input[name=username]")).to_have_value(email)
    audit(page, "login")
    field(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".navbar-brand")).to_contain_text(name)
    audit(page, "home")


def log_in(page, audit, email, password=PASSWORD, *, name="login"):
    """Fill the log-in form shown now and submit it."""
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    audit(page, name)
    page.locator("input[name=username]").fill(email)
    field(page, "Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log in")).to_have_count(0)


def open_menu(page):
    """At phone width the navbar is collapsed: open it."""
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        # Until its animation ends ("collapsing"), clicks inside it can be lost.
        menu = page.locator(f"#{toggler.get_attribute('aria-controls')}")
        expect(menu).to_have_class(re.compile(r"\bshow\b"))


def go(page, section):
    """Follow a link of the main navigation ("Requests", "Assets", ...)."""
    open_menu(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name=section).click()


def log_out(page):
    open_menu(page)
    page.locator(".navbar .dropdown-toggle").click()
    expect(page.locator(".navbar .dropdown-toggle")).to_have_attribute("aria-expanded", "true")
    page.get_by_role("button", name="Log out").click()


# --- In the database, through in_own_connection ----------------------------------


def mail_to(outbox, address):
    """
    The mail sent to ``address``, oldest first. Tests send mail with Django's
    locmem backend (pytest-django), in this process: the site's threads
    append to the same ``mailoutbox`` list.
    """
    return [f"{mail.subject}\n{mail.body}" for mail in outbox if address in mail.to]


def link_in(mail):
    """The path of the first link in a mail (its host is the site's, its port may not be)."""
    match = LINK.search(mail)
    assert match, f"No link in:\n{mail}"
    return match.group(1)


def tenant_schema(subdomain):
    with schema_context("public"):
        return Tenant.objects.get(subdomain=subdomain).schema_name


def delete_committed_tenant(subdomain):
    with schema_context("public"):
        for tenant in Tenant.objects.filter(subdomain=subdomain):
            tenant_delete(tenant=tenant, actor="test")
            DeletedTenant.objects.filter(schema_name=tenant.schema_name).delete()
