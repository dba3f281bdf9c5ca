"""
The platform API on the main domain (/api/v1/platform/): platform admins
only, every change audited as ``api:<e-mail>``, keys never crossing between
the main domain and a tenant's subdomain.
"""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from accounts.api_keys import api_key_create
from accounts.models import APIKey, User
from accounts.services import user_create
from tenants.models import Tenant, TenantAuditEntry
from tests.conftest import APIClient

BASE = "/api/v1/platform"
ADMIN_EMAIL = "root@platform.example"
ACTOR = f"api:{ADMIN_EMAIL}"


def public_user(email, *, staff=True, superuser=True):
    with schema_context(get_public_schema_name()):
        return user_create(email=email, password=None, is_staff=staff, is_superuser=superuser)


def public_key(user, *, by=None, access=APIKey.Access.READ_WRITE):
    with schema_context(get_public_schema_name()):
        _key, raw_key = api_key_create(by=by or user, user=user, name="test", access=access)
    return raw_key


@pytest.fixture
def admin(public_tenant):
    return public_user(ADMIN_EMAIL)


@pytest.fixture
def admin_key(admin):
    return public_key(admin)


@pytest.fixture
def platform(public_tenant, admin_key):
    """A platform admin's API client on the main domain."""
    return APIClient(public_tenant, admin_key)


def tenant(subdomain):
    return Tenant.objects.get(subdomain=subdomain)


def last_audit(subdomain, action):
    return TenantAuditEntry.objects.filter(tenant__subdomain=subdomain, action=action).first()


# --- Reading ----------------------------------------------------------------------


def test_list_filters_searches_and_orders(platform, make_tenant):
    make_tenant("gamma", plan="basic")
    make_tenant("delta", name="Delta Docks", status=Tenant.Status.ACTIVE)

    body = platform.get(f"{BASE}/tenants/").json()
    subdomains = [row["subdomain"] for row in body["results"]]
    assert set(subdomains) == {"alpha", "beta", "gamma", "delta"}  # not the platform's own
    assert body["count"] == 4
    assert "usage" not in body["results"][0]

    def subdomains_of(query):
        response = platform.get(f"{BASE}/tenants/?{query}")
        assert response.status_code == 200
        return [row["subdomain"] for row in response.json()["results"]]

    assert subdomains_of("plan=basic") == ["gamma"]
    assert subdomains_of("status=trial") == ["gamma"]
    assert subdomains_of("search=docks") == ["delta"]
    assert subdomains_of("search=gam") == ["gamma"]
    assert subdomains_of("ordering=-subdomain") == ["gamma", "delta", "beta", "alpha"]


def test_a_bad_filter_is_a_400_in_the_shared_format(platform):
    response = platform.get(f"{BASE}/tenants/?plan=platinum")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "plan" in body["fields"]


def test_the_list_takes_as_many_queries_for_many_tenants_as_for_few(platform, make_tenant):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert platform.get(f"{BASE}/tenants/").status_code == 200
        return len(captured)

    # Made before counting too: while the test's transaction holds uncommitted
    # tenant changes, routing looks the host up on every request (tenants.routing).
    make_tenant("gamma")
    platform.get(f"{BASE}/tenants/")  # first use of the key records last_used
    few = queries()
    for subdomain in ("delta", "epsilon", "zeta", "eta"):
        make_tenant(subdomain, feature_overrides={"sla": True})
    assert queries() == few
    assert platform.get(f"{BASE}/tenants/").json()["count"] == 7


def test_detail_by_subdomain_with_limits_features_dates_and_usage(platform, make_tenant):
    make_tenant("gamma", plan="basic", feature_overrides={"api_access": True})
    body = platform.get(f"{BASE}/tenants/gamma/").json()
    assert body["subdomain"] == "gamma"
    assert (body["status"], body["plan"], body["plan_name"]) == ("trial", "basic", "Basic")
    assert (body["max_users"], body["max_assets"], body["max_requests_per_month"]) == (
        10,
        100,
        500,
    )
    assert body["feature_overrides"] == {"api_access": True}
    assert set(body["features"]) == {"api_access", "custom_branding", "reports_export"}
    assert body["trial_ends"] is not None
    assert body["subscription_expires"] is None
    assert body["usage"] == {
        "users": {"used": 0, "limit": 10},
        "assets": {"used": 0, "limit": 100},
        "requests": {"used": 0, "limit": 500},
    }


def test_an_unknown_subdomain_is_a_json_404(platform):
    response = platform.get(f"{BASE}/tenants/nobody/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_usage_of_every_tenant_is_paginated(platform, make_tenant):
    make_tenant("gamma")
    body = platform.get(f"{BASE}/usage/?page_size=2&ordering=subdomain").json()
    assert body["count"] == 3
    assert body["next"] is not None
    assert [row["subdomain"] for row in body["results"]] == ["alpha", "beta"]
    assert set(body["results"][0]["usage"]) == {"users", "assets", "requests"}


# --- Creating ---------------------------------------------------------------------

NEW_TENANT = {
    "name": "Globex",
    "subdomain": "globex",
    "plan": "premium",
    "admin_name": "Hank Scorpio",
    "admin_email": "hank@globex.example",
    "admin_password": "rain-Barrel-742",
}


def test_create_makes_the_tenant_its_schema_and_admin_and_audits_it(platform):
    response = platform.post(f"{BASE}/tenants/", NEW_TENANT)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["subdomain"], body["plan"], body["status"]) == ("globex", "premium", "trial")
    assert body["usage"]["users"] == {"used": 1, "limit": 50}

    globex = tenant("globex")
    assert globex.onboarded and globex.billing_email == "hank@globex.example"
    assert schema_exists(globex.schema_name)
    with schema_context(globex.schema_name):
        hank = User.objects.get(email="hank@globex.example")
        assert hank.check_password("rain-Barrel-742")
        assert [group.name for group in hank.groups.all()] == ["Admin"]
    entry = last_audit("globex", "create")
    assert entry.actor == ACTOR


def test_create_may_start_active(platform):
    response = platform.post(f"{BASE}/tenants/", {**NEW_TENANT, "status": "active"})
    assert response.status_code == 201
    assert tenant("globex").status == Tenant.Status.ACTIVE
    response = platform.post(
        f"{BASE}/tenants/", {**NEW_TENANT, "subdomain": "other", "status": "suspended"}
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["status"]


@pytest.mark.parametrize(
    ("subdomain", "message"),
    [
        ("Globex", "Use lower-case letters only."),
        ("admin", "“admin” is reserved. Please choose another subdomain."),
        ("alpha", "This subdomain is already taken."),
    ],
)
def test_a_bad_subdomain_is_a_400_explaining_why(platform, subdomain, message):
    response = platform.post(f"{BASE}/tenants/", {**NEW_TENANT, "subdomain": subdomain})
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "Some fields are not valid.",
        "fields": {"subdomain": [message]},
    }
    assert Tenant.objects.count() == 3  # public, alpha, beta


def test_every_field_at_fault_is_named(platform):
    response = platform.post(
        f"{BASE}/tenants/",
        {**NEW_TENANT, "name": "  ", "admin_email": "nope", "plan": "platinum"},
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"name", "admin_email", "plan"}


def test_a_failed_creation_leaves_no_row_and_no_schema(platform, monkeypatch):
    from django.core.exceptions import ValidationError

    import main_site.services

    def fail(**kwargs):
        raise ValidationError({"admin_email": "Refused late, after the schema was made."})

    monkeypatch.setattr(main_site.services, "user_create", fail)
    response = platform.post(f"{BASE}/tenants/", NEW_TENANT)
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "admin_email": ["Refused late, after the schema was made."]
    }
    assert not Tenant.objects.filter(subdomain="globex").exists()
    assert not schema_exists("t_globex")
    assert not TenantAuditEntry.objects.filter(tenant_name="Globex").exists()


# --- Changing ---------------------------------------------------------------------


def test_suspend_needs_a_reason(platform):
    response = platform.post(f"{BASE}/tenants/alpha/suspend/", {})
    assert response.status_code == 400
    assert response.json()["fields"] == {"reason": ["This field is required."]}
    response = platform.post(f"{BASE}/tenants/alpha/suspend/", {"reason": "   "})
    assert response.status_code == 400
    assert tenant("alpha").status == Tenant.Status.ACTIVE


def test_suspend_closes_the_subdomain_and_reactivate_opens_it(platform):
    alpha = tenant("alpha")
    response = platform.post(f"{BASE}/tenants/alpha/suspend/", {"reason": "Unpaid invoices"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["suspension_reason"]) == (
        "suspended",
        "Unpaid invoices",
    )
    entry = last_audit("alpha", "suspend")
    assert entry.actor == ACTOR
    assert entry.changes["status"] == ["active", "suspended"]

    refused = APIClient(alpha).get("/api/v1/me/")
    assert refused.status_code == 403
    assert refused.json()["code"] == "tenant_suspended"

    response = platform.post(f"{BASE}/tenants/alpha/reactivate/")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["suspension_reason"]) == ("active", "")
    assert last_audit("alpha", "reactivate").actor == ACTOR
    # Open again: the API now asks for a key instead of refusing the organisation.
    assert APIClient(alpha).get("/api/v1/me/").status_code == 401


def test_change_plan(platform):
    response = platform.post(f"{BASE}/tenants/alpha/change-plan/", {"plan": "premium"})
    assert response.status_code == 200
    body = response.json()
    assert (body["plan"], body["max_users"], body["max_requests_per_month"]) == (
        "premium",
        50,
        None,
    )
    assert "api_access" in body["features"]
    entry = last_audit("alpha", "change_plan")
    assert entry.actor == ACTOR
    assert entry.changes["plan"] == ["free", "premium"]

    response = platform.post(f"{BASE}/tenants/alpha/change-plan/", {"plan": "platinum"})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["plan"]


def test_patch_overrides_limits_and_features(platform):
    response = platform.patch(
        f"{BASE}/tenants/alpha/",
        {"max_users": 7, "max_assets": None, "feature_overrides": {"api_access": True}},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["max_users"], body["max_assets"], body["max_requests_per_month"]) == (7, None, 50)
    assert body["features"] == ["api_access"]
    assert body["usage"]["users"]["limit"] == 7
    entry = last_audit("alpha", "update")
    assert entry.actor == ACTOR
    assert entry.changes["max_users"] == ["3", "7"]
    assert entry.changes["max_assets"] == ["10", "None"]

    alpha = tenant("alpha")
    assert (alpha.max_users, alpha.max_assets, alpha.max_requests_per_month) == (7, None, 50)


def test_patch_refuses_unknown_features_and_negative_limits(platform):
    response = platform.patch(
        f"{BASE}/tenants/alpha/",
        {"max_users": -1, "feature_overrides": {"teleport": True}},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"max_users", "feature_overrides"}
    assert "teleport" in body["fields"]["feature_overrides"][0]
    assert tenant("alpha").max_users == 3
    assert not TenantAuditEntry.objects.filter(tenant__subdomain="alpha", action="update").exists()


# --- Who may call it --------------------------------------------------------------


def test_no_credentials_is_a_401(public_tenant):
    response = APIClient(public_tenant).get(f"{BASE}/tenants/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_public_user_who_is_not_staff_is_a_403(admin):
    clerk = public_user("clerk@platform.example", staff=False, superuser=False)
    client = APIClient(Tenant.objects.get(subdomain=None), public_key(clerk, by=admin))
    for response in (
        client.get(f"{BASE}/tenants/"),
        client.get(f"{BASE}/usage/"),
        client.post(f"{BASE}/tenants/alpha/suspend/", {"reason": "no"}),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert tenant("alpha").status == Tenant.Status.ACTIVE


def test_a_read_only_key_may_only_read(public_tenant, admin):
    client = APIClient(public_tenant, public_key(admin, access=APIKey.Access.READ_ONLY))
    assert client.get(f"{BASE}/tenants/").status_code == 200
    response = client.post(f"{BASE}/tenants/alpha/reactivate/")
    assert response.status_code == 403
    assert response.json()["code"] == "read_only_key"


def test_the_admin_session_works_too(public_client, admin):
    public_client.force_login(admin, verified=True)
    assert public_client.get(f"{BASE}/tenants/").status_code == 200


def test_a_tenants_key_does_not_work_on_the_platform_api(public_tenant, alpha, api_for):
    alpha_client, _user, _key = api_for(alpha)
    response = APIClient(public_tenant).get(
        f"{BASE}/tenants/", HTTP_AUTHORIZATION=alpha_client.defaults["HTTP_AUTHORIZATION"]
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_key"


def test_a_platform_key_does_not_work_on_a_tenants_subdomain(admin_key, alpha, api_for):
    api_for(alpha)  # alpha's plan includes the API; only the key is wrong
    response = APIClient(alpha, admin_key).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_key"


def test_the_platform_api_is_not_on_a_tenants_subdomain(alpha, api_for):
    client, _user, _key = api_for(alpha)
    assert client.get(f"{BASE}/tenants/").status_code == 404


# --- Schema and docs --------------------------------------------------------------


def test_schema_and_docs_are_for_platform_admins(platform, public_tenant):
    response = platform.get(f"{BASE}/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "SmartMaintenance platform API"
    assert f"{BASE}/tenants/{{subdomain}}/suspend/" in schema["paths"]

    docs = platform.get(f"{BASE}/docs/", HTTP_ACCEPT="text/html")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content

    assert APIClient(public_tenant).get(f"{BASE}/schema/").status_code == 401


# --- manage.py platform_api_key ---------------------------------------------------


def test_command_makes_a_key_that_works(public_tenant, admin):
    out = StringIO()
    call_command(
        "platform_api_key", email=ADMIN_EMAIL.upper(), name="ci", stdout=out, stderr=StringIO()
    )
    raw_key = out.getvalue().strip()
    assert raw_key.startswith("smk_")
    assert APIClient(public_tenant, raw_key).get(f"{BASE}/tenants/").status_code == 200
    with schema_context(get_public_schema_name()):
        key = APIKey.objects.get(name="ci")
    assert (key.user, key.access) == (admin, APIKey.Access.READ_WRITE)


def test_command_read_only(public_tenant, admin):
    out = StringIO()
    call_command(
        "platform_api_key", "--email", ADMIN_EMAIL, "--name", "ro", "--read-only",
        stdout=out, stderr=StringIO(),
    )  # fmt: skip
    with schema_context(get_public_schema_name()):
        assert APIKey.objects.get(name="ro").access == APIKey.Access.READ_ONLY


def test_command_refuses_unknown_and_non_staff_users(public_tenant, admin):
    with pytest.raises(CommandError, match="No platform user"):
        call_command("platform_api_key", email="nobody@platform.example", name="ci")
    public_user("clerk@platform.example", staff=False, superuser=False)
    with pytest.raises(CommandError, match="not an active staff user"):
        call_command("platform_api_key", email="clerk@platform.example", name="ci")
