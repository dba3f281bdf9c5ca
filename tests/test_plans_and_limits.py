"""The plan catalogue and the single limit/feature gate."""

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django_tenants.utils import tenant_context

from accounts.models import User
from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from assets.services import asset_create
from billing import limits
from billing.limits import FeatureNotInPlan, PlanLimitReached, Resource
from billing.plans import PLANS, Feature, PlanCode
from billing.services import tenant_change_plan
from requests_app.models import MaintenanceRequest
from requests_app.services import request_create
from tenants.services import tenant_update

pytestmark = pytest.mark.django_db


def test_the_catalogue_matches_the_published_plans():
    table = {
        code.value: (
            plan.monthly_price,
            plan.max_users,
            plan.max_assets,
            plan.max_requests_per_month,
        )
        for code, plan in PLANS.items()
    }
    assert table == {
        "free": (0, 3, 10, 50),
        "basic": (29, 10, 100, 500),
        "premium": (99, 50, 1000, None),
        "enterprise": (None, None, None, None),
    }
    assert Feature.API_ACCESS not in PLANS[PlanCode.BASIC].features
    assert Feature.API_ACCESS in PLANS[PlanCode.PREMIUM].features
    assert set(Feature) == set(PLANS[PlanCode.ENTERPRISE].features)


def test_a_new_tenant_gets_its_plans_limits_and_a_trial(make_tenant):
    tenant = make_tenant("delta", plan=PlanCode.BASIC)

    assert (tenant.max_users, tenant.max_assets, tenant.max_requests_per_month) == (10, 100, 500)
    assert tenant.status == "trial"
    assert (
        dt.timedelta(days=13, hours=23)
        < tenant.trial_ends - tenant.created
        <= dt.timedelta(days=14)
    )


def test_changing_the_plan_updates_the_limits(make_tenant):
    tenant = make_tenant("delta")

    tenant_change_plan(tenant=tenant, plan=PlanCode.PREMIUM, actor="test")
    tenant.refresh_from_db()

    assert (tenant.plan, tenant.max_users, tenant.max_requests_per_month) == ("premium", 50, None)
    assert tenant.audit_entries.filter(action="change_plan", actor="test").exists()


def test_user_limit_names_the_limit_and_requesters_are_free(make_tenant):
    tenant = make_tenant("delta")  # free: 3 users
    with tenant_context(tenant):
        roles = roles_provision_defaults()
        for number in range(3):
            user_create(email=f"staff{number}@delta.example", password=None)
        with pytest.raises(PlanLimitReached) as raised:
            user_create(email="one-too-many@delta.example", password=None)
        requester = user_create(
            email="req@delta.example", password=None, roles=[roles[BuiltinRole.REQUESTER]]
        )

    assert raised.value.code == "plan_limit_reached"
    assert "3 users" in raised.value.messages[0]
    assert requester.pk is not None
    assert limits.usage_stats(tenant)["users"] == {"used": 3, "limit": 3}
    assert not limits.can_add(tenant, Resource.USERS)


def test_createsuperuser_in_a_tenant_meets_the_user_limit(make_tenant, monkeypatch):
    # What django-tenants' tenant_command createsuperuser runs: the command
    # with the connection in the tenant's schema.
    tenant = make_tenant("delta")  # free: 3 users
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Super-pass-2024")
    with tenant_context(tenant):
        for number in range(2):
            user_create(email=f"staff{number}@delta.example", password=None)
        call_command(
            "createsuperuser",
            interactive=False,
            email="boss@delta.example",
            full_name="Boss",
            stdout=StringIO(),
        )

        with pytest.raises(CommandError, match="allows 3 users"):
            call_command(
                "createsuperuser",
                interactive=False,
                email="boss2@delta.example",
                full_name="Boss Two",
                stdout=StringIO(),
            )

        assert User.objects.get(email="boss@delta.example").is_superuser
        assert not User.objects.filter(email="boss2@delta.example").exists()


def test_asset_limit(make_tenant):
    tenant = make_tenant("delta")
    tenant_update(tenant=tenant, actor="test", max_assets=2)
    with tenant_context(tenant):
        asset_create(name="Boiler", asset_tag="B-1")
        asset_create(name="Chiller", asset_tag="C-1")
        assert not limits.can_add(tenant, Resource.ASSETS)
        with pytest.raises(PlanLimitReached, match="2 assets"):
            asset_create(name="Pump", asset_tag="P-1")


def test_monthly_request_limit_follows_the_tenants_time_zone(make_tenant):
    tenant = make_tenant("delta", timezone="Pacific/Auckland")
    tenant_update(tenant=tenant, actor="test", max_requests_per_month=1)
    with tenant_context(tenant):
        old = request_create(title="Filed around midnight in Auckland")
        now = dt.datetime(2026, 10, 1, 0, 30, tzinfo=dt.UTC)  # 1 Oct 13:30 in Auckland (UTC+13)
        MaintenanceRequest.objects.filter(pk=old.pk).update(
            created=dt.datetime(2026, 9, 30, 10, 30, tzinfo=dt.UTC)  # 30 Sep 23:30 Auckland
        )
        assert limits.usage(tenant, Resource.REQUESTS, now=now) == 0
        MaintenanceRequest.objects.filter(pk=old.pk).update(
            created=dt.datetime(2026, 9, 30, 11, 30, tzinfo=dt.UTC)  # 1 Oct 00:30 Auckland
        )
        assert limits.usage(tenant, Resource.REQUESTS, now=now) == 1


def test_request_limit_blocks_creation(make_tenant):
    tenant = make_tenant("delta")
    tenant_update(tenant=tenant, actor="test", max_requests_per_month=1)
    with tenant_context(tenant):
        request_create(title="Leak")
        with pytest.raises(PlanLimitReached, match="1 requests this month"):
            request_create(title="Another leak")
        assert MaintenanceRequest.objects.count() == 1


def test_features_come_from_the_plan_with_overrides(make_tenant):
    tenant = make_tenant("delta", plan=PlanCode.BASIC)

    assert limits.has_feature(tenant, "custom_branding")
    assert not limits.has_feature(tenant, "api_access")
    with pytest.raises(FeatureNotInPlan) as raised:
        limits.require_feature(tenant, "api_access")
    assert raised.value.code == "feature_not_in_plan"

    tenant_update(
        tenant=tenant,
        actor="test",
        feature_overrides={"api_access": True, "custom_branding": False},
    )
    assert limits.has_feature(tenant, "api_access")
    assert not limits.has_feature(tenant, "custom_branding")
    limits.require_feature(tenant, "api_access")


def test_unknown_features_are_an_error_not_a_silent_no(alpha):
    with pytest.raises(ValueError, match="teleportation"):
        limits.has_feature(alpha, "teleportation")


def test_invalid_tenant_fields_are_refused(make_tenant):
    tenant = make_tenant("delta")
    with pytest.raises(ValidationError) as raised:
        tenant_update(tenant=tenant, actor="test", primary_color="blue", timezone="Mars/Olympus")
    assert set(raised.value.message_dict) == {"primary_color", "timezone"}
