"""Two-factor authentication (accounts/two_factor/): enrolment, the code step, who must."""

import re

import pytest
from django.conf import settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from accounts.two_factor.rules import TENANT_SETTING
from billing.services import tenant_change_plan
from tenants.services import tenant_update

PASSWORD = "x-Secret-123"
RECOVERY = "rcv12345"


def code_for(device) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def people(alpha):
    tenant_update(tenant=alpha, actor="test", max_users=None)
    roles = roles_provision_defaults()
    return {
        name: user_create(email=f"{name}@alpha.example", password=PASSWORD, roles=[roles[role]])
        for name, role in [("admin", BuiltinRole.ADMIN), ("manager", BuiltinRole.MANAGER)]
    }


def give_device(user):
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    static.token_set.create(token=RECOVERY)
    return device


def log_in(client, user):
    response = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return response


# --- Enrolment ------------------------------------------------------------------------


@pytest.fixture
def no_otp_throttle(settings):
    """
    django-otp delays a device's next check after a wrong code (a second, then
    doubling); these tests give the right code at once after a wrong one.
    """
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def test_enrolment_shows_a_qr_code_then_recovery_codes_once(alpha_client, people, no_otp_throttle):
    manager = people["manager"]
    alpha_client.force_login(manager)

    page = alpha_client.get("/accounts/two-factor/enrol/")
    device = TOTPDevice.objects.get(user=manager, confirmed=False)

    body = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in body and "<path" in body  # the QR code, drawn on the server
    assert re.search(r"<code[^>]*>[A-Z2-7]{32}</code>", body)  # the key, to type in
    wrong = alpha_client.post("/accounts/two-factor/enrol/", {"code": "000000"})
    assert "That code is not right" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed

    done = alpha_client.post("/accounts/two-factor/enrol/", {"code": code_for(device)})

    device.refresh_from_db()
    assert device.confirmed
    tokens = list(StaticToken.objects.filter(device__user=manager).values_list("token", flat=True))
    assert len(tokens) == 10
    shown = done.content.decode()
    assert all(token in shown for token in tokens)
    # Shown once: the overview never lists them again.
    overview = alpha_client.get("/accounts/two-factor/").content.decode()
    assert not any(token in overview for token in tokens)
    assert "On:" in overview


# --- The code after the password -------------------------------------------------------


def test_login_asks_for_the_code_after_the_password(alpha_client, people, no_otp_throttle):
    manager = people["manager"]
    device = give_device(manager)

    log_in(alpha_client, manager)
    blocked = alpha_client.get("/requests/")
    assert blocked.status_code == 302
    assert blocked["Location"].startswith("/accounts/two-factor/verify/?next=")
    wrong = alpha_client.post(
        "/accounts/two-factor/verify/", {"code": "000000", "next": "/requests/"}
    )
    assert "That code is not right" in wrong.content.decode()
    assert alpha_client.get("/requests/").status_code == 302

    right = alpha_client.post(
        "/accounts/two-factor/verify/", {"code": code_for(device), "next": "/requests/"}
    )

    assert right.status_code == 302
    assert right["Location"] == "/requests/"
    assert alpha_client.get("/requests/").status_code == 200


def test_a_user_without_a_device_logs_in_with_the_password_alone(alpha_client, people):
    log_in(alpha_client, people["manager"])

    assert alpha_client.get("/requests/").status_code == 200


def test_a_recovery_code_works_once(alpha_client, people):
    manager = people["manager"]
    give_device(manager)

    log_in(alpha_client, manager)
    used = alpha_client.post("/accounts/two-factor/verify/", {"code": RECOVERY, "next": "/"})
    assert used.status_code == 302
    assert not StaticToken.objects.filter(device__user=manager).exists()
    alpha_client.post("/accounts/logout/")
    log_in(alpha_client, manager)
    again = alpha_client.post("/accounts/two-factor/verify/", {"code": RECOVERY, "next": "/"})

    assert again.status_code == 200
    assert "That code is not right" in again.content.decode()


def test_guessing_codes_locks_out(alpha_client, people):
    manager = people["manager"]
    give_device(manager)
    log_in(alpha_client, manager)

    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        response = alpha_client.post("/accounts/two-factor/verify/", {"code": "111111"})

    assert response.status_code == 429
    assert "Try again after" in response.content.decode()
    assert "_auth_user_id" not in alpha_client.session


def test_an_unverified_session_cannot_use_the_api(alpha_client, people):
    manager = people["manager"]
    give_device(manager)
    alpha_client.force_login(manager)

    response = alpha_client.get("/api/v1/me/")

    assert response.status_code == 403
    assert response.json()["code"] == "two_factor_required"


# --- Who must ---------------------------------------------------------------------------


def test_platform_admins_must_enrol_before_the_admin_opens(public_client):
    with schema_context("public"):
        root = user_create(
            email="root@localhost", password=PASSWORD, is_staff=True, is_superuser=True
        )
    public_client.force_login(root)

    response = public_client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/two-factor/enrol/?next=")
    enrol = public_client.get("/two-factor/enrol/")
    assert enrol.status_code == 200
    assert "<svg" in enrol.content.decode()


def enterprise(tenant):
    with schema_context("public"):
        tenant_change_plan(tenant=tenant, plan="enterprise", actor="test")
    tenant.refresh_from_db()


def test_a_tenant_on_enterprise_can_require_it_of_its_admins(alpha, alpha_client, people):
    enterprise(alpha)
    admin, manager = people["admin"], people["manager"]
    give_device(admin)
    log_in(alpha_client, admin)
    alpha_client.post(
        "/accounts/two-factor/verify/", {"code": code_for(TOTPDevice.objects.get(user=admin))}
    )

    saved = alpha_client.post("/accounts/two-factor/required/", {"required": "on"})

    assert saved.status_code == 302
    alpha.refresh_from_db()
    assert alpha.settings[TENANT_SETTING] is True
    # Another admin without a device is sent to enrol; a manager is not.
    roles = roles_provision_defaults()
    other = user_create(
        email="admin2@alpha.example", password=PASSWORD, roles=[roles[BuiltinRole.ADMIN]]
    )
    other_client = type(alpha_client)(alpha)
    log_in(other_client, other)
    blocked = other_client.get("/requests/")
    assert blocked.status_code == 302
    assert blocked["Location"].startswith("/accounts/two-factor/enrol/")
    manager_client = type(alpha_client)(alpha)
    log_in(manager_client, manager)
    assert manager_client.get("/requests/").status_code == 200
    # And a required admin cannot turn theirs off.
    alpha_client.post("/accounts/two-factor/disable/")
    assert TOTPDevice.objects.filter(user=admin).exists()


def test_requiring_it_needs_the_enterprise_plan(alpha, alpha_client, people):
    with schema_context("public"):
        tenant_change_plan(tenant=alpha, plan="premium", actor="test")
    alpha.refresh_from_db()
    alpha_client.force_login(people["admin"])

    page = alpha_client.get("/accounts/two-factor/required/").content.decode()
    response = alpha_client.post("/accounts/two-factor/required/", {"required": "on"})

    assert "Enterprise plan" in page
    assert response.status_code == 200
    alpha.refresh_from_db()
    assert not alpha.settings.get(TENANT_SETTING)
    assert alpha_client.get("/requests/").status_code == 200


def test_an_optional_second_factor_can_be_turned_off(alpha_client, people):
    manager = people["manager"]
    device = give_device(manager)
    log_in(alpha_client, manager)
    alpha_client.post("/accounts/two-factor/verify/", {"code": code_for(device)})

    alpha_client.post("/accounts/two-factor/disable/")

    assert not TOTPDevice.objects.filter(user=manager).exists()
    assert not StaticDevice.objects.filter(user=manager).exists()


@pytest.mark.parametrize(
    ("client_name", "path", "login"),
    [
        ("public_client", "/two-factor/enrol/", "/admin/login/"),
        ("alpha_client", "/accounts/two-factor/enrol/", "/accounts/login/"),
        ("alpha_client", "/accounts/two-factor/verify/", "/accounts/login/"),
    ],
)
def test_the_pages_send_strangers_to_their_hosts_login(request, client_name, path, login):
    response = request.getfixturevalue(client_name).get(path)

    assert response.status_code == 302
    assert response["Location"].startswith(f"{login}?next=")
