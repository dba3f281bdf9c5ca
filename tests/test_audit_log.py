"""The tenant audit log (audit/): what is recorded, with whom and from where, and who sees it."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts import api_keys, services
from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from audit.models import Action, AuditEntry
from audit.services import audit_prune, audit_record, retention_days
from audit.tasks import audit_prune as audit_prune_task
from billing.plans import PLANS
from billing.services import tenant_change_plan
from requests_app.services import request_settings_update
from tenants.exports import tenant_export
from tenants.jobs import jobs_registered
from tenants.models import Tenant
from tenants.services import tenant_update
from webhooks import services as webhooks

PASSWORD = "x-Secret-123"


@pytest.fixture
def people(alpha):
    tenant_update(tenant=alpha, actor="test", max_users=None)
    roles = roles_provision_defaults()
    return {
        name: user_create(email=f"{name}@alpha.example", password=PASSWORD, roles=[roles[role]])
        for name, role in [
            ("admin", BuiltinRole.ADMIN),
            ("manager", BuiltinRole.MANAGER),
            ("tech", BuiltinRole.TECHNICIAN),
        ]
    }


def entries(action):
    return list(AuditEntry.objects.filter(action=action))


# --- What is recorded ---------------------------------------------------------------------


def test_logins_are_recorded_with_the_address(alpha_client, people):
    alpha_client.post(
        "/accounts/login/",
        {"username": "manager@alpha.example", "password": "wrong"},
        REMOTE_ADDR="10.1.2.3",
    )
    alpha_client.post(
        "/accounts/login/",
        {"username": "manager@alpha.example", "password": PASSWORD},
        REMOTE_ADDR="10.1.2.4",
        HTTP_USER_AGENT="TestBrowser/1.0",
    )

    (failed,) = entries(Action.LOGIN_FAILED)
    (success,) = entries(Action.LOGIN)
    assert (failed.actor_email, failed.actor_id, failed.ip_address) == (
        "manager@alpha.example",
        None,
        "10.1.2.3",
    )
    assert (success.actor_id, success.ip_address, success.user_agent) == (
        people["manager"].pk,
        "10.1.2.4",
        "TestBrowser/1.0",
    )


def test_a_user_change_records_who_from_where_and_the_diff(alpha_client, people):
    alpha_client.force_login(people["admin"])
    manager = people["manager"]

    response = alpha_client.post(
        f"/accounts/users/{manager.pk}/",
        {
            "full_name": "Mona",
            "roles": [
                Group.objects.get(name="Manager").pk,
                Group.objects.get(name="Technician").pk,
            ],
            "trades": ["hvac"],
            "is_active": "on",
        },
        REMOTE_ADDR="10.7.7.7",
    )

    assert response.status_code == 302
    (entry,) = entries(Action.USER_CHANGED)
    assert entry.actor_email == "admin@alpha.example"
    assert entry.actor_id == people["admin"].pk
    assert entry.ip_address == "10.7.7.7"
    assert entry.target_id == str(manager.pk)
    assert entry.changes == {
        "full_name": ["", "Mona"],
        "roles": [["Manager"], ["Manager", "Technician"]],
        "trades": [[], ["hvac"]],
    }


def test_a_refused_change_records_nothing(people):
    admin = people["admin"]

    with pytest.raises(ValidationError):
        services.user_update(user=admin, by=admin, full_name="X", roles=[], is_active=True)

    assert not AuditEntry.objects.exists()


def test_an_entry_is_rolled_back_with_its_change(people):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.role_create(by=people["admin"], name="Auditors", permissions=[])
        raise RuntimeError("the change fails after the service")

    assert not Group.objects.filter(name="Auditors").exists()
    assert not AuditEntry.objects.filter(action=Action.ROLE_CREATED).exists()


def test_roles_keys_webhooks_and_settings_are_recorded(alpha, people):
    admin, tech = people["admin"], people["tech"]
    before_plan = alpha.plan
    with schema_context("public"):
        tenant_change_plan(tenant=alpha, plan="premium", actor="test")
    alpha.refresh_from_db()

    role = services.role_create(by=admin, name="Auditors", permissions=[])
    services.role_update(by=admin, role=role, name="Readers", permissions=[])
    services.role_delete(by=admin, role=role)
    key, _raw = api_keys.api_key_create(by=admin, name="Zapier", user=tech)
    api_keys.api_key_revoke(key=key, by=admin)
    endpoint = webhooks.endpoint_create(by=admin, url="https://hooks.example.com/in", events=[])
    webhooks.endpoint_update(endpoint=endpoint, by=admin, description="BMS")
    webhooks.endpoint_delete(endpoint=endpoint, by=admin)
    request_settings_update(auto_close_days=3)

    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == [
        Action.PLAN_CHANGED,
        Action.ROLE_CREATED,
        Action.ROLE_CHANGED,
        Action.ROLE_DELETED,
        Action.API_KEY_CREATED,
        Action.API_KEY_REVOKED,
        Action.WEBHOOK_CREATED,
        Action.WEBHOOK_CHANGED,
        Action.WEBHOOK_DELETED,
        Action.SETTINGS_CHANGED,
    ]
    plan_changed = AuditEntry.objects.get(action=Action.PLAN_CHANGED)
    assert plan_changed.changes == {"plan": [before_plan, "premium"]}
    assert (plan_changed.actor_id, plan_changed.actor_email) == (None, "test")
    assert AuditEntry.objects.get(action=Action.ROLE_CHANGED).changes == {
        "name": ["Auditors", "Readers"]
    }
    assert AuditEntry.objects.get(action=Action.API_KEY_CREATED).changes["user"] == [
        None,
        "tech@alpha.example",
    ]
    assert AuditEntry.objects.get(action=Action.WEBHOOK_CHANGED).changes == {
        "description": ["", "BMS"]
    }
    assert "secret" not in str(AuditEntry.objects.get(action=Action.WEBHOOK_CREATED).changes)
    assert AuditEntry.objects.get(action=Action.SETTINGS_CHANGED).changes["auto_close_days"][1] == 3


def test_an_export_is_recorded_in_the_tenant_log(alpha, people, tmp_path):
    with schema_context("public"):
        tenant_export(tenant=alpha, path=tmp_path / "alpha.zip")

    (entry,) = entries(Action.EXPORTED)
    assert entry.changes == {"file": "alpha.zip"}
    assert entry.actor_email == "platform operator"


def test_the_log_stays_in_its_tenant(alpha, people):
    audit_record(action=Action.SETTINGS_CHANGED, actor=people["admin"])

    with schema_context(Tenant.objects.get(subdomain="beta").schema_name):
        assert not AuditEntry.objects.exists()
    assert AuditEntry.objects.count() == 1


# --- The page and the API -----------------------------------------------------------------


def test_the_page_filters_and_pages(alpha_client, people):
    admin = people["admin"]
    long_ago = timezone.now() - timedelta(days=10)
    for _n in range(60):
        audit_record(action=Action.LOGIN, actor=people["manager"])
    old = audit_record(action=Action.LOGIN_FAILED, actor=None, actor_email="mallory@evil.example")
    AuditEntry.objects.filter(pk=old.pk).update(created=long_ago)
    alpha_client.force_login(admin)

    first = alpha_client.get("/settings/audit/").content.decode()
    second = alpha_client.get("/settings/audit/?page=2").content.decode()
    by_actor = alpha_client.get("/settings/audit/?actor=mallory").content.decode()
    by_action = alpha_client.get("/settings/audit/?action=login_failed").content.decode()
    by_date = alpha_client.get(
        f"/settings/audit/?until={(long_ago + timedelta(days=1)).date()}"
    ).content.decode()

    assert "Page 1 of 2" in first
    assert "mallory@evil.example" not in first  # oldest, so on page 2
    assert "mallory@evil.example" in second
    assert "mallory@evil.example" in by_actor and "manager@alpha.example" not in by_actor
    assert "mallory@evil.example" in by_action and "manager@alpha.example" not in by_action
    assert "mallory@evil.example" in by_date and "manager@alpha.example" not in by_date


@pytest.mark.parametrize("who", ["manager", "tech"])
def test_only_admins_see_the_page(alpha_client, people, who):
    audit_record(action=Action.LOGIN, actor=people["admin"])
    alpha_client.force_login(people[who])

    response = alpha_client.get("/settings/audit/")

    assert response.status_code == 403
    assert b"admin@alpha.example" not in response.content


def test_the_api_lists_filters_and_refuses_writes(alpha, api_for):
    client, _admin, _key = api_for(alpha)
    audit_record(action=Action.LOGIN_FAILED, actor=None, actor_email="mallory@evil.example")

    listed = client.get("/api/v1/audit/")
    filtered = client.get("/api/v1/audit/?action=login_failed")
    written = client.post("/api/v1/audit/", {"action": "login"})

    assert listed.status_code == 200
    actions = [entry["action"] for entry in listed.json()["results"]]
    assert "login_failed" in actions and "api_key_created" in actions
    assert [e["actor_email"] for e in filtered.json()["results"]] == ["mallory@evil.example"]
    assert written.status_code in (403, 405)
    assert not AuditEntry.objects.filter(action=Action.LOGIN).exists()


def test_the_api_is_for_admins(alpha, api_for):
    client, _manager, _key = api_for(alpha, role=BuiltinRole.MANAGER)

    response = client.get("/api/v1/audit/")

    assert response.status_code == 403


# --- Retention ----------------------------------------------------------------------------


@pytest.mark.parametrize("plan", ["free", "enterprise"])
def test_entries_older_than_the_plan_keeps_are_pruned(alpha, people, plan):
    with schema_context("public"):
        tenant_change_plan(tenant=alpha, plan=plan, actor="test")
    alpha.refresh_from_db()
    days = PLANS[plan].audit_retention_days
    now = timezone.now()
    kept = audit_record(action=Action.LOGIN, actor=people["admin"])
    gone = audit_record(action=Action.LOGIN, actor=people["admin"])
    AuditEntry.objects.filter(pk=kept.pk).update(created=now - timedelta(days=days - 1))
    AuditEntry.objects.filter(pk=gone.pk).update(created=now - timedelta(days=days + 1))

    assert retention_days(alpha) == days
    assert audit_prune(tenant=alpha, now=now) == 1
    logins = AuditEntry.objects.filter(action=Action.LOGIN)
    assert list(logins.values_list("pk", flat=True)) == [kept.pk]


def test_the_prune_is_a_daily_job():
    job = {job.name: job for job in jobs_registered()}["audit.prune"]

    assert job.task == "audit.tasks.audit_prune"
    assert job.local_hour is not None


def test_the_daily_task_prunes_the_current_tenant(alpha, people):
    entry = audit_record(action=Action.LOGIN, actor=people["admin"])
    AuditEntry.objects.filter(pk=entry.pk).update(created=timezone.now() - timedelta(days=3000))

    audit_prune_task.apply()

    assert not AuditEntry.objects.filter(pk=entry.pk).exists()
