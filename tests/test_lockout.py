"""Login lockout (django-axes, accounts/lockout.py): per account, per address, per schema."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from tenants.models import Tenant
from tenants.services import tenant_update
from tests.conftest import TenantClient

PASSWORD = "x-Secret-123"
LIMIT = settings.AXES_FAILURE_LIMIT


@pytest.fixture
def alice(alpha):
    tenant_update(tenant=alpha, actor="test", max_users=None)
    roles = roles_provision_defaults()
    return user_create(
        email="alice@alpha.example", password=PASSWORD, roles=[roles[BuiltinRole.MANAGER]]
    )


def log_in(client, email, password, ip="10.0.0.1", path="/accounts/login/"):
    return client.post(path, {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_the_account_locks_after_repeated_failures_from_any_address(alpha_client, alice):
    for attempt in range(LIMIT):
        refused = log_in(alpha_client, alice.email, "wrong", ip=f"10.0.1.{attempt}")
        # The form again until the limit; the failure that reaches it locks.
        assert refused.status_code == (200 if attempt < LIMIT - 1 else 429)

    response = log_in(alpha_client, alice.email, PASSWORD, ip="10.0.2.1")

    assert response.status_code == 429
    page = response.content.decode()
    assert "Try again after" in page
    assert response["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    assert "_auth_user_id" not in alpha_client.session


def test_the_lockout_page_says_when(alpha_client, alice):
    with time_machine.travel("2026-06-01 10:00:00+00:00", tick=False):
        for _attempt in range(LIMIT):
            log_in(alpha_client, alice.email, "wrong")
        page = log_in(alpha_client, alice.email, PASSWORD).content.decode()

    retry = timezone.datetime(2026, 6, 1, 10, 0) + settings.AXES_COOLOFF_TIME
    assert f"{retry:%Y-%m-%d %H:%M} UTC" in page


def test_an_address_locks_after_failures_on_many_accounts(alpha_client, alice):
    for attempt in range(LIMIT):
        log_in(alpha_client, f"nobody{attempt}@alpha.example", "wrong", ip="10.9.9.9")

    assert log_in(alpha_client, alice.email, PASSWORD, ip="10.9.9.9").status_code == 429
    assert log_in(alpha_client, alice.email, PASSWORD, ip="10.8.8.8").status_code == 302


def test_the_lockout_ends_after_the_cool_off(alpha_client, alice):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _attempt in range(LIMIT):
            log_in(alpha_client, alice.email, "wrong")
        assert log_in(alpha_client, alice.email, PASSWORD).status_code == 429

    with time_machine.travel(start + settings.AXES_COOLOFF_TIME + timedelta(seconds=5), tick=False):
        assert log_in(alpha_client, alice.email, PASSWORD).status_code == 302


def test_a_lockout_stays_in_its_tenant(alpha_client, alice):
    beta = Tenant.objects.get(subdomain="beta")
    with schema_context(beta.schema_name):
        tenant_update(tenant=beta, actor="test", max_users=None)
        roles = roles_provision_defaults()
        user_create(email=alice.email, password=PASSWORD, roles=[roles[BuiltinRole.MANAGER]])
    for _attempt in range(LIMIT):
        log_in(alpha_client, alice.email, "wrong")

    assert log_in(alpha_client, alice.email, PASSWORD).status_code == 429
    assert log_in(TenantClient(beta), alice.email, PASSWORD).status_code == 302


def test_the_platform_admin_login_locks_too(public_client):
    with schema_context("public"):
        user_create(email="root@localhost", password=PASSWORD, is_staff=True, is_superuser=True)
    for attempt in range(LIMIT):
        response = log_in(public_client, "root@localhost", "wrong", path="/admin/login/")
        assert response.status_code == (200 if attempt < LIMIT - 1 else 429)

    response = log_in(public_client, "root@localhost", PASSWORD, path="/admin/login/")

    assert response.status_code == 429
    assert "Try again after" in response.content.decode()


def test_api_key_failures_lock_the_client_address(alpha, api_for):
    client, _user, key = api_for(alpha)
    wrong_secret = f"smk_{key.prefix}_not-the-secret"

    for attempt in range(LIMIT):
        response = client.get(
            "/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {wrong_secret}", REMOTE_ADDR="10.5.5.5"
        )
        assert response.status_code == (401 if attempt < LIMIT - 1 else 429)
    locked = client.get("/api/v1/me/", REMOTE_ADDR="10.5.5.5")
    elsewhere = client.get("/api/v1/me/", REMOTE_ADDR="10.6.6.6")

    assert locked.status_code == 429
    assert locked.json()["code"] in ("locked_out", "throttled")
    assert elsewhere.status_code == 200


def test_a_tenant_admin_unlocks_a_user(alpha, alpha_client, alice, make_people):
    for _attempt in range(LIMIT):
        log_in(alpha_client, alice.email, "wrong")
    admin = make_people(alpha, boss=BuiltinRole.ADMIN)["boss"]
    admin_client = type(alpha_client)(alpha)
    admin_client.force_login(admin)

    page = admin_client.get(f"/accounts/users/{alice.pk}/").content.decode()
    assert f"/accounts/users/{alice.pk}/unlock/" in page
    response = admin_client.post(f"/accounts/users/{alice.pk}/unlock/")

    assert response.status_code == 302
    assert (
        f"/accounts/users/{alice.pk}/unlock/"
        not in admin_client.get(f"/accounts/users/{alice.pk}/").content.decode()
    )
    assert log_in(alpha_client, alice.email, PASSWORD, ip="10.0.3.3").status_code == 302


def test_only_admins_may_unlock(alpha, alpha_client, alice, make_people):
    for _attempt in range(LIMIT):
        log_in(alpha_client, alice.email, "wrong")
    tech = make_people(alpha, tech=BuiltinRole.TECHNICIAN)["tech"]
    other = type(alpha_client)(alpha)
    other.force_login(tech)

    assert other.post(f"/accounts/users/{alice.pk}/unlock/").status_code == 403
    assert log_in(alpha_client, alice.email, PASSWORD).status_code == 429


def test_tokens_not_shaped_like_a_key_do_not_count(alpha, api_for):
    # Only a string shaped like a key can match one; another service's token
    # sent here by mistake is refused without locking the integration out.
    client, _user, _key = api_for(alpha)

    for _attempt in range(LIMIT * 2):
        refused = client.get(
            "/api/v1/me/", HTTP_AUTHORIZATION="Bearer ghp_someoneelses", REMOTE_ADDR="10.5.5.5"
        )
        assert refused.status_code == 401

    assert client.get("/api/v1/me/", REMOTE_ADDR="10.5.5.5").status_code == 200


def test_changing_the_case_of_the_address_gives_no_more_tries(alpha_client, alice):
    # Logins match e-mail addresses whatever their case; so does the lockout.
    spellings = ["ALICE@alpha.example", "Alice@Alpha.Example", "alice@ALPHA.example"]
    for attempt in range(LIMIT):
        log_in(alpha_client, spellings[attempt % 3], "wrong", ip=f"10.0.4.{attempt}")

    assert log_in(alpha_client, "aLiCe@alpha.example", PASSWORD, ip="10.0.5.1").status_code == 429
