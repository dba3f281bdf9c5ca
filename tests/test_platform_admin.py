"""Django admin on the main domain: tenants with usage, actions, audit log."""

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context, tenant_context

from accounts.services import user_create
from billing import limits
from tenants.models import Tenant, TenantAuditEntry

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/tenants/tenant/"


@pytest.fixture
def platform_admin(public_tenant):
    with schema_context("public"):
        return user_create(
            email="ops@platform.example",
            password="ops-Password-99",
            is_staff=True,
            is_superuser=True,
        )


@pytest.fixture
def admin_client(public_client, platform_admin):
    public_client.force_login(platform_admin, verified=True)
    return public_client


def test_the_platform_superuser_logs_in_on_the_main_domain(public_client, platform_admin):
    with schema_context("public"):
        device = TOTPDevice.objects.create(user=platform_admin, name="app", confirmed=True)
    response = public_client.post(
        "/admin/login/?next=/admin/",
        {"username": "ops@platform.example", "password": "ops-Password-99"},
    )

    assert response.status_code == 302
    # The second factor, which platform admins must have (docs/security.md).
    assert public_client.get("/admin/")["Location"].startswith("/two-factor/verify/")
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    public_client.post("/two-factor/verify/", {"code": f"{totp.token():06d}"})
    assert public_client.get("/admin/").status_code == 200


def test_tenants_are_listed_with_plan_status_usage_and_trial_end(admin_client, alpha):
    with tenant_context(alpha):
        user_create(email="one@alpha.example", password=None)

    response = admin_client.get(CHANGELIST)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Alpha Works" in page and "Beta Buildings" in page
    assert "1 / 3" in page  # alpha's users against the free plan's limit
    assert "SmartMaintenance" not in response.context["cl"].result_list.values_list(
        "name", flat=True
    )


def test_search_and_filter(admin_client):
    assert list(admin_client.get(CHANGELIST + "?q=beta").context["cl"].result_list) == [
        Tenant.objects.get(subdomain="beta")
    ]
    assert admin_client.get(CHANGELIST + "?status__exact=suspended").context["cl"].result_count == 0


def test_suspend_action_asks_for_a_reason_then_suspends_and_audits(admin_client, make_tenant):
    tenant = make_tenant("delta", status=Tenant.Status.ACTIVE)
    selection = {"action": "suspend", "_selected_action": [tenant.pk]}

    confirm = admin_client.post(CHANGELIST, selection)
    done = admin_client.post(CHANGELIST, {**selection, "reason": "Unpaid invoices"})

    tenant.refresh_from_db()
    assert confirm.status_code == 200 and "Reason" in confirm.content.decode()
    assert done.status_code == 302
    assert (tenant.status, tenant.suspension_reason) == ("suspended", "Unpaid invoices")
    entry = TenantAuditEntry.objects.filter(tenant=tenant, action="suspend").get()
    assert entry.actor == "ops@platform.example"
    assert entry.changes["status"] == ["active", "suspended"]


def test_change_plan_reactivate_and_extend_trial_actions(admin_client, make_tenant):
    tenant = make_tenant("delta")

    admin_client.post(
        CHANGELIST, {"action": "change_plan_to_premium", "_selected_action": [tenant.pk]}
    )
    admin_client.post(CHANGELIST, {"action": "extend_trial", "_selected_action": [tenant.pk]})
    tenant.refresh_from_db()

    assert (tenant.plan, tenant.max_users) == ("premium", 50)
    assert set(tenant.audit_entries.values_list("action", flat=True)) >= {
        "change_plan",
        "extend_trial",
    }


def test_editing_limits_in_admin_overrides_them_and_is_audited(admin_client, make_tenant):
    tenant = make_tenant("delta")
    url = f"{CHANGELIST}{tenant.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {
        name: form.initial.get(name) if form.initial.get(name) is not None else ""
        for name in form.fields
        if name != "logo"
    }
    data.update(
        {
            "max_users": 7,
            "feature_overrides": '{"api_access": true}',
            "settings": "{}",
            "domains-TOTAL_FORMS": 1,
            "domains-INITIAL_FORMS": 1,
            "domains-0-id": tenant.domains.get().pk,
            "domains-0-domain": "delta.localhost",
            "domains-0-is_primary": "on",
            "domains-0-tenant": tenant.pk,
        }
    )

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    tenant.refresh_from_db()
    assert tenant.max_users == 7 and limits.has_feature(tenant, "api_access")
    entry = tenant.audit_entries.get(action="update")
    assert entry.changes["max_users"] == ["3", "7"]


def test_the_plan_is_not_edited_on_the_form_only_through_the_actions(admin_client, make_tenant):
    tenant = make_tenant("delta")
    url = f"{CHANGELIST}{tenant.pk}/change/"
    form = admin_client.get(url).context["adminform"].form

    assert "plan" not in form.fields
