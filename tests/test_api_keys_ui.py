"""The API keys page: admins make a key (shown once), see it listed, revoke it."""

import re

from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from tests.conftest import APIClient, TenantClient


def _login(tenant, role):
    roles = roles_provision_defaults()
    user = user_create(email=f"{role.lower()}@keys.example", password=None, roles=[roles[role]])
    client = TenantClient(tenant)
    client.force_login(user)
    return client, user


def test_an_admin_makes_a_key_once_and_revokes_it(alpha, api_for):
    api_for(alpha)  # premium plan, so the key works on the API
    client, admin = _login(alpha, BuiltinRole.ADMIN)
    page = client.post("/accounts/api-keys/", {"name": "BMS sync", "access": "read_write"})
    assert page.status_code == 200
    raw_key = re.search(r'id="new-api-key">(smk_[^<]+)<', page.content.decode()).group(1)
    assert APIClient(alpha, raw_key).get("/api/v1/me/").json()["email"] == admin.email

    listing = client.get("/accounts/api-keys/").content.decode()
    assert "BMS sync" in listing and raw_key not in listing

    key = admin.api_keys.get(name="BMS sync")
    assert client.post(f"/accounts/api-keys/{key.pk}/revoke/").status_code == 302
    assert APIClient(alpha, raw_key).get("/api/v1/me/").status_code == 401


def test_a_key_can_act_as_a_service_account(alpha, api_for):
    api_for(alpha)
    client, _admin = _login(alpha, BuiltinRole.ADMIN)
    roles = roles_provision_defaults()
    bot = user_create(email="bot@keys.example", password=None, roles=[roles["Technician"]])
    page = client.post(
        "/accounts/api-keys/", {"name": "bot", "access": "read_only", "user": bot.pk}
    )
    raw_key = re.search(r'id="new-api-key">(smk_[^<]+)<', page.content.decode()).group(1)
    me = APIClient(alpha, raw_key).get("/api/v1/me/").json()
    assert (me["email"], me["roles"]) == ("bot@keys.example", ["Technician"])


def test_only_admins_see_the_page(alpha):
    client, _user = _login(alpha, BuiltinRole.MANAGER)
    assert client.get("/accounts/api-keys/").status_code == 403
    assert client.post("/accounts/api-keys/", {"name": "x"}).status_code == 403


def test_a_nameless_key_is_a_form_error(alpha):
    client, admin = _login(alpha, BuiltinRole.ADMIN)
    page = client.post("/accounts/api-keys/", {"name": "", "access": "read_only"})
    assert page.status_code == 200
    assert "This field is required." in page.content.decode()
    assert not admin.api_keys.exists()
