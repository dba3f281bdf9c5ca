"""Suspension, reactivation, cancellation, trial expiry and read-only accounts."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from tenants.models import Tenant
from tenants.services import (
    TRIAL_ENDED_REASON,
    TRIAL_GRACE_PERIOD,
    TRIAL_PERIOD,
    tenant_cancel,
    tenant_extend_trial,
    tenant_reactivate,
    tenant_suspend,
)
from tests.conftest import TenantClient

pytestmark = pytest.mark.django_db


def test_suspend_needs_a_reason_and_reactivate_restores_access(make_tenant):
    tenant = make_tenant("delta", status=Tenant.Status.ACTIVE)
    client = TenantClient(tenant)

    with pytest.raises(ValidationError, match="reason"):
        tenant_suspend(tenant=tenant, reason="  ", actor="ops@platform.example")
    tenant_suspend(tenant=tenant, reason="Chargeback", actor="ops@platform.example")
    tenant.refresh_from_db()
    suspended = client.get("/accounts/login/")

    tenant_reactivate(tenant=tenant, actor="ops@platform.example")
    tenant.refresh_from_db()
    reactivated = client.get("/accounts/login/")

    assert (suspended.status_code, reactivated.status_code) == (403, 200)
    assert (tenant.status, tenant.suspension_reason) == ("active", "")
    actions = list(tenant.audit_entries.order_by("created").values_list("action", "actor"))
    assert actions[-2:] == [
        ("suspend", "ops@platform.example"),
        ("reactivate", "ops@platform.example"),
    ]


def test_an_expired_trial_is_read_only_with_a_banner(make_tenant):
    tenant = make_tenant("delta")
    client = TenantClient(tenant)
    with time_machine.travel(timezone.now() + TRIAL_PERIOD + dt.timedelta(hours=1)):
        assert tenant.is_trial_expired() and tenant.is_read_only
        page = client.get("/accounts/login/")
        change = client.post("/some/form/", {"x": 1})
        api_change = client.post("/api/v1/assets/", {}, content_type="application/json")
        login = client.post("/accounts/login/", {"username": "x@y.example", "password": "nope"})

    assert page.status_code == 200
    assert "Your trial has ended" in page.content.decode()
    assert change.status_code == 403 and "read-only" in change.content.decode()
    assert api_change.status_code == 403 and api_change.json()["code"] == "tenant_read_only"
    assert login.status_code == 200  # a failed log-in, but the form is still served


def test_trials_are_suspended_after_the_grace_period_by_the_daily_command(make_tenant):
    expired = make_tenant("delta")
    in_grace = make_tenant("epsilon")
    paying = make_tenant("zeta", status=Tenant.Status.ACTIVE)
    Tenant.objects.filter(pk=in_grace.pk).update(trial_ends=timezone.now() - dt.timedelta(days=1))
    Tenant.objects.filter(pk=expired.pk).update(
        trial_ends=timezone.now() - TRIAL_GRACE_PERIOD - dt.timedelta(minutes=1)
    )

    call_command("tenant_lifecycle")
    call_command("tenant_lifecycle")

    statuses = dict(
        Tenant.objects.filter(subdomain__in=["delta", "epsilon", "zeta"]).values_list(
            "subdomain", "status"
        )
    )
    assert statuses == {"delta": "suspended", "epsilon": "trial", "zeta": "active"}
    expired.refresh_from_db()
    assert expired.suspension_reason == TRIAL_ENDED_REASON
    assert expired.audit_entries.filter(action="suspend").count() == 1
    assert paying.status == "active"


def test_extending_a_trial_reopens_a_suspended_trial(make_tenant):
    tenant = make_tenant("delta")
    tenant_suspend(tenant=tenant, reason=TRIAL_ENDED_REASON)

    with pytest.raises(ValidationError):
        tenant_extend_trial(tenant=tenant, days=0)
    tenant_extend_trial(tenant=tenant, days=14, actor="ops@platform.example")

    tenant.refresh_from_db()
    assert tenant.status == "trial"
    assert tenant.trial_ends > timezone.now() + dt.timedelta(days=13)


def test_a_cancelled_account_is_read_only(make_tenant):
    tenant = make_tenant("delta", status=Tenant.Status.ACTIVE)
    tenant_cancel(tenant=tenant, actor="ops@platform.example")
    tenant.refresh_from_db()

    response = TenantClient(tenant).post("/anything/", {})

    assert response.status_code == 403
    assert "cancelled" in response.content.decode()
