"""
The tenant admins' plan page and its buttons: who sees it, Checkout and the
customer portal by redirect, cancel at period end and resume, cancel at once,
downgrade above limits, and the "not configured" mode without Stripe keys.
"""

import datetime as dt
from urllib.parse import parse_qs

import billing_stripe as fake
import pytest
import responses
from django.contrib.messages import get_messages
from django_tenants.utils import get_public_schema_name, schema_context
from djstripe.models import Customer, Invoice

from accounts.api_keys import api_key_create
from accounts.roles import BuiltinRole
from accounts.services import user_create
from assets.models import Asset
from assets.services import asset_create
from billing import services
from billing.limits import PlanLimitReached
from billing.models import TenantSubscription
from billing.plans import PlanCode
from billing.subscriptions import subscription_apply_stripe
from tenants.models import Tenant
from tests.conftest import APIClient, TenantClient

pytestmark = pytest.mark.django_db

PAGE = "/settings/billing/"


@pytest.fixture
def people(alpha, make_people):
    return make_people(
        alpha,
        ada=BuiltinRole.ADMIN,
        max=BuiltinRole.MANAGER,
        tom=BuiltinRole.TECHNICIAN,
        rae=BuiltinRole.REQUESTER,
    )


def _as(tenant, user):
    client = TenantClient(tenant)
    client.force_login(user)
    return client


def _subscription(tenant):
    with schema_context(get_public_schema_name()):
        return TenantSubscription.objects.get(tenant=tenant)


def _subscribe(tenant, *, status="active", cancel_at_period_end=False, plan="basic"):
    """Put ``tenant`` on a Stripe subscription, as its webhook would."""
    with schema_context(get_public_schema_name()):
        subscription = TenantSubscription.objects.select_for_update().get(tenant=tenant)
        subscription.stripe_customer_id = "cus_alpha"
        subscription_apply_stripe(
            subscription=subscription,
            stripe_subscription=fake.subscription(
                sub_id="sub_alpha",
                customer="cus_alpha",
                status=status,
                plan=plan,
                cancel_at_period_end=cancel_at_period_end,
            ),
            event_created=1,
            event_id="evt_setup",
        )


def test_only_tenant_admins_see_the_plan_page(alpha, people, settings):
    fake.configure(settings)
    answers = {name: _as(alpha, user).get(PAGE).status_code for name, user in people.items()}
    anonymous = TenantClient(alpha).get(PAGE)

    assert answers == {"ada": 200, "max": 403, "tom": 403, "rae": 403}
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    for name in ("max", "tom"):
        assert _as(alpha, people[name]).post("/settings/billing/checkout/").status_code == 403


def test_the_page_shows_plan_usage_and_the_buttons_of_an_unsubscribed_admin(
    alpha, people, settings
):
    fake.configure(settings)
    html = _as(alpha, people["ada"]).get(PAGE).content.decode()

    assert "Free plan" in html
    assert 'id="usage"' in html and "Assets" in html
    assert "Subscribe to Basic" in html and "Subscribe to Premium" in html
    assert 'id="cancel"' not in html and 'id="portal"' not in html
    assert "not configured" not in html
    nav = _as(alpha, people["ada"]).get("/accounts/users/").content.decode()
    assert 'href="/settings/billing/"' in nav


def test_the_buttons_of_a_subscribed_admin(alpha, people, settings):
    fake.configure(settings)
    _subscribe(alpha)
    html = _as(alpha, people["ada"]).get(PAGE).content.decode()

    assert "Basic plan" in html and "Active" in html
    assert 'id="renewal"' in html
    assert "Switch to Premium" in html and "Subscribe to" not in html
    assert 'id="portal"' in html and 'id="cancel"' in html and 'id="resume"' not in html


@responses.activate
def test_upgrade_goes_to_stripe_checkout(alpha, people, settings):
    fake.configure(settings)
    session_call = fake.mock_checkout(responses)

    response = _as(alpha, people["ada"]).post(
        "/settings/billing/checkout/", {"plan": "basic", "cycle": "monthly"}
    )

    assert response.status_code == 302
    assert response["Location"] == "https://checkout.stripe.com/c/pay/cs_test_1"
    sent = parse_qs(session_call.calls[0].request.body)
    assert sent["customer"] == ["cus_new"]
    assert sent["client_reference_id"] == [str(alpha.pk)]
    assert sent["line_items[0][price]"] == ["price_basic_monthly"]
    assert sent["success_url"][0].startswith("http://alpha.localhost/settings/billing/success/")
    assert _subscription(alpha).stripe_customer_id == "cus_new"


@responses.activate
def test_a_bad_plan_choice_is_refused_and_calls_nothing(alpha, people, settings):
    fake.configure(settings)
    client = _as(alpha, people["ada"])

    response = client.post("/settings/billing/checkout/", {"plan": "enterprise"})

    assert response.status_code == 302 and response["Location"] == PAGE
    [message] = get_messages(response.wsgi_request)
    assert "Choose a paid plan" in str(message)
    assert len(responses.calls) == 0


@responses.activate
def test_the_portal_button_goes_to_stripe(alpha, people, settings):
    fake.configure(settings)
    _subscribe(alpha)
    call = fake.mock_portal(responses)

    response = _as(alpha, people["ada"]).post("/settings/billing/portal/")

    assert response["Location"] == "https://billing.stripe.com/p/session/test_1"
    assert parse_qs(call.calls[0].request.body)["customer"] == ["cus_alpha"]


@responses.activate
def test_cancel_at_period_end_and_resume(alpha, people, settings):
    fake.configure(settings)
    _subscribe(alpha)
    client = _as(alpha, people["ada"])
    url = f"{fake.API}/subscriptions/sub_alpha"
    responses.post(
        url,
        json=fake.subscription(sub_id="sub_alpha", customer="cus_alpha", cancel_at_period_end=True),
    )

    client.post("/settings/billing/cancel/")

    subscription = _subscription(alpha)
    assert subscription.cancel_at_period_end is True
    assert subscription.cancel_at == subscription.current_period_end
    assert parse_qs(responses.calls[-1].request.body) == {"cancel_at_period_end": ["true"]}
    html = client.get(PAGE).content.decode()
    assert 'id="resume"' in html and 'id="cancel-at"' in html
    assert Tenant.objects.get(pk=alpha.pk).status == "active"  # until the period ends

    responses.replace(
        responses.POST, url, json=fake.subscription(sub_id="sub_alpha", customer="cus_alpha")
    )
    client.post("/settings/billing/resume/")
    assert _subscription(alpha).cancel_at_period_end is False


@responses.activate
def test_cancel_at_once(alpha, settings):
    fake.configure(settings)
    _subscribe(alpha)
    responses.delete(
        f"{fake.API}/subscriptions/sub_alpha",
        json=fake.subscription(
            sub_id="sub_alpha", customer="cus_alpha", status="canceled", canceled_at=1_780_000_500
        ),
    )

    services.subscription_cancel_now(tenant=alpha)

    assert _subscription(alpha).status == "cancelled"
    with schema_context(get_public_schema_name()):
        assert Tenant.objects.get(pk=alpha.pk).status == "cancelled"


def test_cancel_at_once_without_stripe(alpha):
    services.subscription_cancel_now(tenant=alpha)

    assert _subscription(alpha).status == "cancelled"
    with schema_context(get_public_schema_name()):
        assert Tenant.objects.get(pk=alpha.pk).is_read_only


@responses.activate
def test_change_plan_of_a_subscription(alpha, people, settings):
    fake.configure(settings)
    _subscribe(alpha)
    responses.get(
        f"{fake.API}/subscriptions/sub_alpha",
        json=fake.subscription(sub_id="sub_alpha", customer="cus_alpha"),
    )
    fake.mock_prices(responses, "premium", "annual")
    update = responses.post(
        f"{fake.API}/subscriptions/sub_alpha",
        json=fake.subscription(
            sub_id="sub_alpha", customer="cus_alpha", plan="premium", cycle="annual"
        ),
    )

    _as(alpha, people["ada"]).post(
        "/settings/billing/change/", {"plan": "premium", "cycle": "annual"}
    )

    sent = parse_qs(update.calls[0].request.body)
    assert sent["items[0][id]"] == ["si_sub_alpha"]
    assert sent["items[0][price]"] == ["price_premium_annual"]
    with schema_context(get_public_schema_name()):
        tenant = Tenant.objects.get(pk=alpha.pk)
    assert (tenant.plan, tenant.max_users) == ("premium", 50)
    assert _subscription(alpha).billing_cycle == "annual"


def test_downgrade_above_limits_keeps_everything_and_refuses_more(alpha, people, settings):
    fake.configure(settings)
    services.tenant_change_plan(tenant=alpha, plan=PlanCode.BASIC)
    alpha.refresh_from_db()
    for number in range(12):
        asset_create(name=f"Pump {number}", asset_tag=f"P-{number}")

    services.tenant_change_plan(tenant=alpha, plan=PlanCode.FREE)
    alpha.refresh_from_db()

    assert Asset.objects.count() == 12
    with pytest.raises(PlanLimitReached) as refused:
        asset_create(name="One more", asset_tag="P-99")
    assert refused.value.code == "plan_limit_reached"
    html = _as(alpha, people["ada"]).get(PAGE).content.decode()
    assert "assets: 2 over the limit of 10" in html

    Asset.objects.filter(asset_tag__in=["P-0", "P-1", "P-2"]).delete()
    asset_create(name="Back under", asset_tag="P-100")
    assert Asset.objects.count() == 10


@responses.activate
def test_without_keys_billing_is_not_configured(alpha, people, settings):
    settings.STRIPE_SECRET_KEY = ""
    client = _as(alpha, people["ada"])

    html = client.get(PAGE).content.decode()
    checkout = client.post("/settings/billing/checkout/", {"plan": "basic", "cycle": "monthly"})

    assert "Billing is not configured" in html and "Free plan" in html
    assert "Subscribe to" not in html and 'id="plan-actions"' not in html
    assert checkout.status_code == 302 and checkout["Location"] == PAGE
    assert len(responses.calls) == 0
    # Platform admins still change plans as before.
    services.tenant_change_plan(tenant=alpha, plan=PlanCode.PREMIUM)
    assert "Premium plan" in client.get(PAGE).content.decode()
    assert _subscription(alpha).plan == "premium"


def test_the_plan_api_shows_the_subscription(alpha, api_for):
    client, _user, _key = api_for(alpha)

    body = client.get("/api/v1/plan/").json()

    assert body["plan"] == "premium"
    assert body["subscription"]["plan"] == "premium"
    assert body["subscription"]["status"] == "active"
    assert body["subscription"]["is_active"] is True
    assert "stripe_customer_id" not in body["subscription"]


def test_a_cancelled_tenant_may_still_choose_a_plan(alpha, people, settings):
    fake.configure(settings)
    services.subscription_cancel_now(tenant=alpha)
    client = _as(alpha, people["ada"])

    refused_elsewhere = client.post("/assets/new/", {})
    page = client.get(PAGE)
    bad_choice = client.post("/settings/billing/checkout/", {"plan": "nothing"})

    assert refused_elsewhere.status_code == 403
    assert page.status_code == 200 and "Subscribe to Basic" in page.content.decode()
    assert bad_choice.status_code == 302


def test_the_platform_api_shows_a_tenants_subscription(public_tenant, alpha):
    with schema_context(get_public_schema_name()):
        admin = user_create(
            email="root@platform.example", password=None, is_staff=True, is_superuser=True
        )
        _key, raw_key = api_key_create(by=admin, user=admin, name="test", access="read_write")
        TenantSubscription.objects.filter(tenant=alpha).update(stripe_customer_id="cus_alpha")

    body = APIClient(public_tenant, raw_key).get("/api/v1/platform/tenants/alpha/").json()

    assert body["subscription"]["plan"] == alpha.plan
    assert body["subscription"]["status"] == "active"
    assert body["subscription"]["stripe_customer_id"] == "cus_alpha"


def test_the_page_lists_the_invoices_dj_stripe_synced(alpha, people, settings):
    fake.configure(settings)
    _subscribe(alpha)
    sample = fake.invoice(customer="cus_alpha", sub_id="sub_alpha")
    sample.update(number="SM-0001", total=2900, currency="usd", status="paid")
    with schema_context(get_public_schema_name()):
        customer = Customer.objects.create(
            id="cus_alpha", livemode=False, stripe_data=fake.sample("customer")
        )
        Invoice.objects.create(
            id=sample["id"], livemode=False, customer=customer, stripe_data=sample,
            created=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        )  # fmt: skip

    html = _as(alpha, people["ada"]).get(PAGE).content.decode()

    assert "SM-0001" in html and "29 USD" in html and "2026-11-01" in html
    assert 'href="https://invoice.stripe.com/i/test"' in html
