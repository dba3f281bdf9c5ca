"""
Platform side of billing: TenantSubscription in Django admin (usage, Stripe
links, MRR by plan), billing_sync_plans against a mocked Stripe, and the data
migration that gives existing tenants their subscription row.
"""

import importlib
from decimal import Decimal
from io import StringIO
from urllib.parse import parse_qs

import billing_stripe as fake
import pytest
import responses
from django.apps import apps
from django.core.management import CommandError, call_command
from django_tenants.utils import get_public_schema_name, schema_context
from responses import matchers

from accounts.services import user_create
from billing import services
from billing.models import TenantSubscription
from billing.selectors import mrr_by_plan
from tenants.models import Tenant

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/billing/tenantsubscription/"


@pytest.fixture
def admin_client(public_client, public_tenant):
    with schema_context(get_public_schema_name()):
        admin = user_create(
            email="ops@platform.example", password=None, is_staff=True, is_superuser=True
        )
    public_client.force_login(admin, verified=True)
    return public_client


def _set(tenant, **fields):
    with schema_context(get_public_schema_name()):
        TenantSubscription.objects.filter(tenant=tenant).update(**fields)


def test_mrr_by_plan_counts_paying_subscriptions(alpha, beta, make_tenant):
    gamma = make_tenant("gamma")
    _set(alpha, plan="basic", price=Decimal("29"), status="active")
    _set(beta, plan="premium", price=Decimal("990"), status="past_due", billing_cycle="annual")
    _set(gamma, plan="premium", price=Decimal("99"), status="cancelled")

    with schema_context(get_public_schema_name()):
        rows = mrr_by_plan()

    assert rows == [
        {"plan": "basic", "currency": "USD", "tenants": 1, "mrr": Decimal("29.00")},
        {"plan": "premium", "currency": "USD", "tenants": 1, "mrr": Decimal("82.50")},
    ]


def test_admin_lists_subscriptions_with_mrr_and_links_to_stripe(admin_client, alpha):
    _set(alpha, plan="basic", price=Decimal("29"), stripe_customer_id="cus_alpha",
         stripe_subscription_id="sub_alpha")  # fmt: skip
    subscription = TenantSubscription.objects.get(tenant=alpha)

    listing = admin_client.get(CHANGELIST).content.decode()
    detail = admin_client.get(f"{CHANGELIST}{subscription.pk}/change/").content.decode()

    assert 'id="mrr-by-plan"' in listing and "29.00 USD" in listing
    assert "https://dashboard.stripe.com/test/customers/cus_alpha" in listing
    assert "https://dashboard.stripe.com/test/subscriptions/sub_alpha" in detail
    assert "assets: 0 / 10" in detail


@responses.activate
def test_billing_sync_plans_creates_then_leaves_alone(settings):
    fake.configure(settings)
    created = {"products": [], "prices": []}
    missing = {"error": {"type": "invalid_request_error", "message": "No such product"}}
    for plan in ("basic", "premium"):
        responses.get(f"{fake.API}/products/smartmaintenance_{plan}", status=404, json=missing)
    responses.get(f"{fake.API}/prices", json={"object": "list", "data": [], "has_more": False})

    def product(request):
        created["products"].append(parse_qs(request.body))
        return 200, {}, '{"id": "prod", "object": "product", "name": "x", "active": true}'

    def price(request):
        created["prices"].append(parse_qs(request.body))
        return 200, {}, '{"id": "price_new", "object": "price"}'

    responses.add_callback(responses.POST, f"{fake.API}/products", callback=product)
    responses.add_callback(responses.POST, f"{fake.API}/prices", callback=price)

    out = StringIO()
    call_command("billing_sync_plans", stdout=out)

    assert [p["id"][0] for p in created["products"]] == [
        "smartmaintenance_basic", "smartmaintenance_premium",
    ]  # fmt: skip
    amounts = {p["lookup_key"][0]: (p["unit_amount"][0], p["recurring[interval]"][0])
               for p in created["prices"]}  # fmt: skip
    assert amounts == {
        "basic_monthly": ("2900", "month"),
        "basic_annual": ("29000", "year"),
        "premium_monthly": ("9900", "month"),
        "premium_annual": ("99000", "year"),
    }
    assert "price basic_annual: created" in out.getvalue()

    # Second run: everything is in Stripe as it should be.
    responses.reset()
    for plan in ("basic", "premium"):
        responses.get(
            f"{fake.API}/products/smartmaintenance_{plan}",
            json={"id": f"smartmaintenance_{plan}", "object": "product", "active": True,
                  "name": f"SmartMaintenance {plan.title()}"},
        )  # fmt: skip
    for plan in ("basic", "premium"):
        for cycle in ("monthly", "annual"):
            responses.get(
                f"{fake.API}/prices",
                json={"object": "list", "data": [fake.price(plan, cycle)], "has_more": False},
                match=[
                    matchers.query_param_matcher(
                        {"lookup_keys[0]": f"{plan}_{cycle}", "limit": "1"}
                    )
                ],
            )
    out = StringIO()
    call_command("billing_sync_plans", stdout=out)

    assert [call.request.method for call in responses.calls] == ["GET"] * 6
    assert out.getvalue().count("unchanged") == 6


def test_billing_sync_plans_without_keys_says_so(settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(CommandError, match="Billing is not configured"):
        call_command("billing_sync_plans")


def test_existing_tenants_get_their_row_from_the_data_migration(alpha, make_tenant):
    trial = make_tenant("oldtrial", plan="basic")
    with schema_context(get_public_schema_name()):
        TenantSubscription.objects.filter(tenant__in=[alpha, trial]).delete()
        migration = importlib.import_module("billing.migrations.0003_tenant_subscriptions_backfill")
        migration.backfill(apps, None)
        rows = {
            row.tenant.subdomain: (row.plan, row.status, row.trial_end == trial.trial_ends)
            for row in TenantSubscription.objects.filter(tenant__in=[alpha, trial])
        }
    assert rows == {"alpha": ("free", "active", False), "oldtrial": ("basic", "trialing", True)}


def test_platform_plan_changes_go_through_the_subscription(make_tenant):
    tenant = make_tenant("gamma")

    services.tenant_change_plan(tenant=tenant, plan="premium")

    with schema_context(get_public_schema_name()):
        assert TenantSubscription.objects.get(tenant=tenant).plan == "premium"
        assert Tenant.objects.get(pk=tenant.pk).max_users == 50
