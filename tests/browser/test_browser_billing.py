"""
In a real browser: a tenant admin upgrades from the plan page, is sent to
Stripe Checkout (mocked at the HTTP boundary; its URL leads back to our
success page, as Stripe's does after paying) and lands on the success page.
The site runs in a server thread and sees only committed rows.
"""

import json
from urllib.parse import parse_qs

import pytest
import responses
from django.db import connection
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from tests import billing_stripe as fake

pytestmark = pytest.mark.django_db

PASSWORD = "Billing-pass-2024"


def _admin(tenant):
    try:
        with tenant_context(tenant):
            roles = roles_provision_defaults()
            user_create(
                email="ada@billing.example", password=PASSWORD, roles=[roles[BuiltinRole.ADMIN]]
            )
    finally:
        connection.close()


def test_upgrade_goes_through_checkout_to_the_success_page(
    site,
    page,
    audit,
    committed_tenant,
    in_own_connection,
    settings,
):
    fake.configure(settings)
    tenant = committed_tenant("billbrowse")
    in_own_connection(_admin, tenant)
    host = f"http://billbrowse.localhost:{site}"

    def checkout(request):
        # Stripe answers with its Checkout page; paying there returns to success_url.
        sent = parse_qs(request.body)
        url = sent["success_url"][0].replace("{CHECKOUT_SESSION_ID}", "cs_test_browser")
        session = fake.sample("checkout.session")
        session.update(id="cs_test_browser", url=url, customer="cus_browser")
        return 200, {}, json.dumps(session)

    with responses.RequestsMock(assert_all_requests_are_fired=True) as stripe:
        customer = fake.sample("customer")
        customer.update(id="cus_browser")
        stripe.post(f"{fake.API}/customers", json=customer)
        fake.mock_prices(stripe, "premium", "annual")
        stripe.add_callback(responses.POST, f"{fake.API}/checkout/sessions", callback=checkout)

        page.goto(f"{host}/accounts/login/")
        audit(page, "billing-login")
        page.locator("input[name=username]").fill("ada@billing.example")
        page.locator("input[name=password]").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        audit(page, "billing-home")
        page.goto(f"{host}/settings/billing/")
        expect(page.locator("#current-plan")).to_contain_text("Free plan")
        audit(page, "billing-plan")

        premium = page.locator("form", has=page.locator("button[data-plan=premium]"))
        premium.get_by_label("Billing cycle for Premium").select_option("annual")
        premium.get_by_role("button", name="Subscribe to Premium").click()

        expect(page).to_have_url(f"{host}/settings/billing/success/?session_id=cs_test_browser")
        expect(page.locator("#checkout-success")).to_contain_text("Thank you for subscribing")
        audit(page, "billing-success")
        sent = parse_qs(stripe.calls[-1].request.body)
    assert sent["line_items[0][price]"] == ["price_premium_annual"]
    assert sent["client_reference_id"] == [str(tenant.pk)]
