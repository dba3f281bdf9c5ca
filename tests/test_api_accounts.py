"""The accounts endpoints: users and roles (admins only), API keys; their query counts."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.api_keys import api_key_create
from accounts.roles import BuiltinRole, role_permissions
from accounts.services import user_create


def _queries(client, path):
    client.get("/api/v1/me/")  # the key's first call of a minute also stamps its last use
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(captured)


@pytest.fixture
def crowded_alpha(alpha, api_for):
    """alpha with 60 users (each with a role) and 60 API keys."""
    client, admin, _key = api_for(alpha)
    requester = Group.objects.get(name=BuiltinRole.REQUESTER)
    for number in range(60):
        user = user_create(email=f"person{number}@alpha.example", password=None, roles=[requester])
        api_key_create(by=admin, user=user, name=f"key {number}")
    return client


@pytest.mark.parametrize("path", ["/api/v1/users/", "/api/v1/api-keys/"])
def test_list_queries_do_not_grow_with_the_page(crowded_alpha, path):
    small = _queries(crowded_alpha, f"{path}?page_size=5")
    large = _queries(crowded_alpha, f"{path}?page_size=50")
    assert small == large


def test_role_list_queries_do_not_grow_with_the_roles(alpha, api_for):
    client, _admin, _key = api_for(alpha)
    before = _queries(client, "/api/v1/roles/")
    for number in range(10):
        role = Group.objects.create(name=f"Custom {number}")
        role.permissions.set(role_permissions(["assets.view_asset", "assets.change_asset"]))
    assert _queries(client, "/api/v1/roles/") == before
    names = [role["name"] for role in client.get("/api/v1/roles/").json()]
    assert "Custom 9" in names and "Admin" in names


def test_users_and_roles_are_for_admins_only(alpha, api_for):
    manager, _user, _key = api_for(alpha, role=BuiltinRole.MANAGER)
    assert manager.get("/api/v1/users/").status_code == 403
    assert manager.get("/api/v1/roles/").status_code == 403
    admin, _user, _key = api_for(alpha)
    listed = admin.get("/api/v1/users/?search=manager").json()
    assert [user["roles"] for user in listed["results"]] == [["Manager"]]


def test_creating_a_user_checks_its_fields(alpha, api_for):
    client, _admin, _key = api_for(alpha)
    response = client.post(
        "/api/v1/users/", {"email": "not-an-address", "roles": ["Nope"], "password": "1"}
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"email", "roles"}
    response = client.post(
        "/api/v1/users/",
        {
            "email": "tess@alpha.example",
            "full_name": "Tess",
            "roles": ["Technician"],
            "password": "1",
        },
    )
    assert response.status_code == 400
    assert "password" in response.json()["fields"]
    created = client.post(
        "/api/v1/users/",
        {"email": "tess@alpha.example", "full_name": "Tess", "roles": ["Technician"]},
    )
    assert created.status_code == 201
    assert created.json()["roles"] == ["Technician"]
    duplicate = client.post("/api/v1/users/", {"email": "TESS@alpha.example", "roles": []})
    assert duplicate.status_code == 400 and "email" in duplicate.json()["fields"]


def test_changing_a_user_follows_the_users_page_rules(alpha, api_for):
    client, admin, _key = api_for(alpha)
    tess = client.post(
        "/api/v1/users/", {"email": "tess@alpha.example", "roles": ["Requester"]}
    ).json()
    changed = client.patch(
        f"/api/v1/users/{tess['id']}/",
        {"roles": ["Technician"], "trades": ["plumbing", "hvac"], "full_name": "Tess T"},
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["roles"], sorted(changed.json()["trades"])) == (
        ["Technician"],
        ["hvac", "plumbing"],
    )
    assert (
        client.patch(f"/api/v1/users/{tess['id']}/", {"is_active": False}).json()["is_active"]
        is False
    )
    refused = client.patch(f"/api/v1/users/{admin.pk}/", {"is_active": False})
    assert (refused.status_code, list(refused.json()["fields"])) == (400, ["is_active"])
    assert client.put(f"/api/v1/users/{tess['id']}/", {}).status_code == 405


def test_ids_of_another_tenant_never_reach_its_users_or_keys(alpha, beta, api_for):
    alpha_client, alpha_admin, alpha_key = api_for(alpha, email="ada@alpha-only.example")
    beta_client, _beta_admin, _beta_key = api_for(beta)
    for path in (f"/api/v1/users/{alpha_admin.pk}/", f"/api/v1/api-keys/{alpha_key.pk}/"):
        response = beta_client.get(path)
        assert response.status_code in (200, 404)
        assert "alpha-only" not in response.content.decode()
    listed = beta_client.get("/api/v1/users/").content.decode()
    assert "alpha-only" not in listed
    assert "alpha-only" in alpha_client.get("/api/v1/users/").content.decode()
