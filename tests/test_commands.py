"""bootstrap and seed_demo: idempotent, and clear when they cannot proceed."""

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context, tenant_context

from accounts.models import User
from main_site.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS
from tenants.models import Domain, Tenant

pytestmark = pytest.mark.django_db


def test_bootstrap_creates_the_platform_superuser_once(monkeypatch, public_tenant):
    monkeypatch.setenv("PLATFORM_ADMIN_EMAIL", "root@platform.example")
    monkeypatch.setenv("PLATFORM_ADMIN_PASSWORD", "a-Strong-pass-1")

    call_command("bootstrap", "--no-input")
    call_command("bootstrap", "--no-input")

    with schema_context("public"):
        admin = User.objects.get(email="root@platform.example")
        assert admin.is_superuser and admin.is_staff
        assert admin.check_password("a-Strong-pass-1")
        assert Domain.objects.filter(domain="localhost", tenant=public_tenant).count() == 1


def test_bootstrap_without_credentials_or_a_terminal_fails_clearly(monkeypatch, public_tenant):
    monkeypatch.delenv("PLATFORM_ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("PLATFORM_ADMIN_PASSWORD", raising=False)

    with pytest.raises(CommandError, match="PLATFORM_ADMIN_EMAIL"):
        call_command("bootstrap", "--no-input")


def test_bootstrap_rejects_a_malformed_email(monkeypatch, public_tenant):
    monkeypatch.setenv("PLATFORM_ADMIN_EMAIL", "not-an-email")
    monkeypatch.setenv("PLATFORM_ADMIN_PASSWORD", "a-Strong-pass-1")

    with pytest.raises(CommandError, match="valid email"):
        call_command("bootstrap", "--no-input")
    with schema_context("public"):
        assert not User.objects.filter(email="not-an-email").exists()


def test_seed_demo_is_idempotent_and_its_users_can_log_in(public_tenant):
    call_command("seed_demo")
    call_command("seed_demo")

    acme = Tenant.objects.get(subdomain="acme")
    assert acme.get_primary_domain().domain == "acme.localhost"
    with tenant_context(acme):
        assert User.objects.count() == len(DEMO_USERS)
        for email, *_ in DEMO_USERS:
            assert User.objects.get(email=email).check_password(DEMO_PASSWORD)


def test_seed_demo_fills_acme_with_a_living_system(public_tenant):
    from assets.models import Asset, Location
    from preventive.models import MaintenanceSchedule, ScheduledOccurrence
    from requests_app.models import MaintenanceRequest, RequestComment, Status

    call_command("seed_demo")
    call_command("seed_demo")

    with tenant_context(Tenant.objects.get(subdomain="acme")):
        assert Location.objects.count() == 5
        assert Asset.objects.count() == 3
        states = set(MaintenanceRequest.objects.values_list("status", flat=True))
        assert states == set(Status.values)
        walked = MaintenanceRequest.objects.filter(comments__isnull=False).distinct().count()
        assert RequestComment.objects.count() == walked == len(Status.values)
        schedules = MaintenanceSchedule.objects.all()
        assert schedules.count() == 2
        assert (
            ScheduledOccurrence.objects.filter(schedule__title="Monthly boiler check").count() >= 2
        )


def test_seed_demo_prints_a_working_api_key_and_revokes_the_last_one(public_tenant):
    import io
    import re

    from tests.conftest import APIClient

    def seed():
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        return re.search(r"export SM_API_KEY=(smk_\S+)", out.getvalue()).group(1)

    first, second = seed(), seed()
    acme = Tenant.objects.get(subdomain="acme")
    with tenant_context(acme):
        assert APIClient(acme, second).get("/api/v1/me/").json()["email"] == DEMO_USERS[0][0]
        assert APIClient(acme, first).get("/api/v1/me/").status_code == 401
