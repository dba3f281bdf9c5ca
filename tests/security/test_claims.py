"""
Tests that prove the claims already made (issue 15, point 10): each fails
when the rule it names is removed.
"""

import threading

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import OperationalError, connection, transaction
from django.db.models.signals import post_save
from django_tenants.utils import (
    get_public_schema_name,
    schema_context,
    schema_exists,
    tenant_context,
)

from accounts.api_keys import KEY_PREFIX
from accounts.models import APIKey, User
from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from billing import limits
from main_site.services import tenant_signup
from tenants.models import Domain, Tenant, TenantAuditEntry
from tenants.services import tenant_update
from tests.conftest import APIClient, TenantClient, _delete_with_tombstone

# --- API keys: the secret is compared, not just the prefix -------------------------


def test_a_real_prefix_with_a_wrong_secret_is_refused_and_not_marked_used(alpha, api_for):
    client, _user, key = api_for(alpha)
    raw = client.defaults["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    assert raw.startswith(f"{KEY_PREFIX}{key.prefix}_")
    forged = f"{KEY_PREFIX}{key.prefix}_{'A' * len(raw.rsplit('_', 1)[-1])}"

    response = APIClient(alpha, forged).get("/api/v1/me/")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_key"
    assert APIKey.objects.get(pk=key.pk).last_used is None
    # The genuine key works and is marked: the refusal is about the secret alone.
    assert client.get("/api/v1/me/").status_code == 200
    assert APIKey.objects.get(pk=key.pk).last_used is not None


# --- Cookies are host-only; sessions live in their tenant's schema --------------------


def test_session_and_csrf_cookies_are_host_only_and_the_session_row_stays_home(alpha, beta):
    assert settings.SESSION_COOKIE_DOMAIN is None and settings.CSRF_COOKIE_DOMAIN is None
    with tenant_context(alpha):
        user_create(email="host@alpha.example", password="Host-only-2024")
    client = TenantClient(alpha)
    page = client.get("/accounts/login/")
    assert page.cookies["csrftoken"]["domain"] == ""
    response = client.post(
        "/accounts/login/", {"username": "host@alpha.example", "password": "Host-only-2024"}
    )
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["domain"] == "", "a Domain attribute would send the cookie to every tenant"
    assert "Domain=" not in cookie.OutputString()
    key = cookie.value

    with tenant_context(alpha):
        assert Session.objects.filter(session_key=key).exists()
    with tenant_context(beta):
        assert not Session.objects.filter(session_key=key).exists()
    with schema_context(get_public_schema_name()):
        tables = connection.introspection.table_names()
        assert (
            "django_session" not in tables or not Session.objects.filter(session_key=key).exists()
        )


# --- Session authentication on the API: CSRF, and one tenant only -------------------------


@pytest.fixture
def alpha_admin(alpha, api_for):
    api_for(alpha)  # the plan with API access
    with tenant_context(alpha):
        roles = roles_provision_defaults()
        return user_create(
            email="session@alpha.example", password=None, roles=[roles[BuiltinRole.ADMIN]]
        )


def test_a_session_authenticated_api_write_needs_the_csrf_token(alpha, alpha_admin):
    client = TenantClient(alpha, enforce_csrf_checks=True)
    client.force_login(alpha_admin)
    body = {"name": "Depot", "kind": "site"}

    refused = client.post("/api/v1/locations/", body, content_type="application/json")

    assert refused.status_code == 403
    assert "CSRF" in refused.json()["message"]
    token = client.get("/accounts/login/").cookies["csrftoken"].value
    accepted = client.post(
        "/api/v1/locations/", body, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code == 201, accepted.content
    assert client.get("/api/v1/me/").json()["email"] == "session@alpha.example"


def test_a_session_of_alpha_is_refused_by_betas_api(alpha, beta, alpha_admin, api_for):
    api_for(beta)
    alpha_client = TenantClient(alpha)
    alpha_client.force_login(alpha_admin)
    assert alpha_client.get("/api/v1/me/").status_code == 200
    beta_client = TenantClient(beta)
    beta_client.cookies["sessionid"] = alpha_client.cookies["sessionid"].value

    response = beta_client.get("/api/v1/me/")

    assert response.status_code in (401, 403)
    assert "session@alpha.example" not in response.content.decode()
    assert response.wsgi_request.user.is_anonymous


# --- The plan limit's advisory lock -----------------------------------------------------


def test_a_held_reservation_makes_the_next_one_wait(committed_tenant, in_own_connection):
    """
    One transaction holds the asset reservation; another, with a short
    lock_timeout, must time out instead of counting alongside it. Without
    the advisory lock in billing.limits.reserve it would return at once.
    """
    tenant = committed_tenant("lockrace")
    in_own_connection(lambda: tenant_update(tenant=tenant, actor="test", max_assets=5))
    held, release, outcome = threading.Event(), threading.Event(), {}

    def holder():
        with tenant_context(tenant), transaction.atomic():
            limits.reserve(tenant, limits.Resource.ASSETS)
            held.set()
            release.wait(timeout=30)

    def contender():
        with tenant_context(tenant), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '500ms'")
            try:
                limits.reserve(tenant, limits.Resource.ASSETS)
                outcome["second"] = "reserved"
            except OperationalError as error:
                outcome["second"] = f"waited: {error}"

    def after_release():
        with tenant_context(tenant), transaction.atomic():
            limits.reserve(tenant, limits.Resource.ASSETS)
            return "reserved"

    first = threading.Thread(target=lambda: in_own_connection(holder))
    first.start()
    assert held.wait(timeout=30)
    try:
        in_own_connection(contender)
    finally:
        release.set()
        first.join()
    assert outcome["second"].startswith("waited:") and "lock" in outcome["second"]
    assert in_own_connection(after_release) == "reserved"


# --- Signup is atomic on a real, committing connection -----------------------------------

SIGNUP = {
    "organisation_name": "Kappa Kilns",
    "subdomain": "kappa",
    "admin_name": "Kim Kappa",
    "admin_email": "kim@kappa.example",
    "admin_password": "kiln-Fire-2024",
    "plan": "basic",
}


@pytest.mark.parametrize(
    ("model", "when"),
    [
        (Tenant, lambda instance, kwargs: kwargs["created"]),
        (Domain, lambda instance, kwargs: True),
        (TenantAuditEntry, lambda instance, kwargs: True),
        (User, lambda instance, kwargs: True),
        (Tenant, lambda instance, kwargs: "onboarded" in (kwargs["update_fields"] or ())),
    ],
    ids=["tenant-row", "domain", "schema-copied", "admin-user", "onboarding"],
)
def test_signup_failing_on_a_committing_connection_leaves_nothing(
    db, model, when, in_own_connection
):
    def receiver(sender, instance, **kwargs):
        if when(instance, kwargs):
            raise RuntimeError("injected failure")

    def signup():
        try:
            tenant_signup(**SIGNUP)
        except RuntimeError as error:
            return str(error)
        return "signed up"

    def left_over():
        with schema_context(get_public_schema_name()):
            return {
                "tenant": Tenant.objects.filter(subdomain="kappa").exists(),
                "domain": Domain.objects.filter(domain__startswith="kappa.").exists(),
                "schema": schema_exists("t_kappa"),
            }

    post_save.connect(receiver, sender=model, weak=False)
    try:
        assert in_own_connection(signup) == "injected failure"
    finally:
        post_save.disconnect(receiver, sender=model)
        found = in_own_connection(left_over)
        if found["tenant"]:  # Clean up what a broken signup committed.
            in_own_connection(lambda: _delete_with_tombstone(Tenant.objects.get(subdomain="kappa")))
    # Checked from a fresh connection, which sees only what was committed.
    assert found == {"tenant": False, "domain": False, "schema": False}
