"""
No self-escalation (accounts.grants): nobody hands out a permission they do
not hold, through any path, for every combination of the admin permissions
involved; and the last Admin of a tenant stays an active Admin.
"""

from itertools import combinations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory

from accounts import api_keys, services
from accounts.models import APIKey, User
from accounts.roles import BuiltinRole, role_permissions
from accounts.services import roles_provision_defaults, user_create
from tenants.services import tenant_update

# The permissions that let someone give rights away: roles to users, roles
# themselves, keys that act as someone.
ADMIN_PERMISSIONS = (
    "accounts.change_user",
    "accounts.add_user",
    "auth.add_group",
    "auth.change_group",
    "accounts.add_apikey",
)
COMBINATIONS = [
    combo
    for size in range(len(ADMIN_PERMISSIONS) + 1)
    for combo in combinations(ADMIN_PERMISSIONS, size)
]
# What the actor wants and may or may not hold.
WANTED = "assets.delete_asset"


def perms(*specs):
    return list(role_permissions(specs))


@pytest.fixture
def setup(alpha):
    tenant_update(tenant=alpha, actor="test", max_users=None)
    roles = roles_provision_defaults()
    user_create(email="boss@alpha.example", password=None, roles=[roles[BuiltinRole.ADMIN]])

    def make(held, holds_wanted):
        specs = [*held, "accounts.view_user", "auth.view_group"]
        if holds_wanted:
            specs.append(WANTED)
        actor_role = Group.objects.create(name="Actor")
        actor_role.permissions.set(perms(*specs))
        power = Group.objects.create(name="Power")
        power.permissions.set(perms(WANTED))
        actor = user_create(email="actor@alpha.example", password=None, roles=[actor_role])
        strong = user_create(email="strong@alpha.example", password=None, roles=[power])
        return User.objects.get(pk=actor.pk), actor_role, power, strong

    return make


def attempts(actor, actor_role, power, strong):
    """Every way to end up with WANTED; each returns what it wrote."""
    return {
        "give myself a role": lambda: services.user_update(
            user=actor, by=actor, full_name="", roles=[actor_role, power], is_active=True
        ),
        "add to a role I hold": lambda: services.role_update(
            by=actor,
            role=actor_role,
            name="Actor",
            permissions=[*actor_role.permissions.all(), *perms(WANTED)],
        ),
        "create a role": lambda: services.role_create(
            by=actor, name="Mine", permissions=perms(WANTED)
        ),
        "edit a role I do not hold": lambda: services.role_update(
            by=actor,
            role=Group.objects.create(name="Other"),
            name="Other",
            permissions=perms(WANTED),
        ),
        "a second account": lambda: services.user_invite(
            by=actor, email="puppet@alpha.example", roles=[power]
        ),
        "a key acting as someone stronger": lambda: api_keys.api_key_create(
            by=actor, name="k", user=strong
        ),
    }


PATHS = [
    "give myself a role",
    "add to a role I hold",
    "create a role",
    "edit a role I do not hold",
    "a second account",
    "a key acting as someone stronger",
]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("held", COMBINATIONS, ids=lambda c: "+".join(c) or "none")
def test_a_permission_not_held_is_never_given(setup, held, path):
    actor, actor_role, power, strong = setup(held, holds_wanted=False)
    attempt = attempts(actor, actor_role, power, strong)[path]

    if path == "a key acting as someone stronger" and "accounts.add_apikey" not in held:
        # Without the right to make keys at all, that is the refusal.
        with pytest.raises(PermissionDenied):
            attempt()
    else:
        with pytest.raises(ValidationError) as refused:
            attempt()
        codes = [e.code for errors in refused.value.error_dict.values() for e in errors]
        assert codes == ["escalation"]
        assert WANTED in " ".join(refused.value.messages)
    actor = User.objects.get(pk=actor.pk)
    assert not actor.has_perm(WANTED)
    assert not Group.objects.filter(name="Mine").exists()
    assert not User.objects.filter(email="puppet@alpha.example").exists()
    assert not actor_role.permissions.filter(codename="delete_asset").exists()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("held", COMBINATIONS, ids=lambda c: "+".join(c) or "none")
def test_a_permission_held_may_be_given(setup, held, path):
    actor, actor_role, power, strong = setup(held, holds_wanted=True)
    attempt = attempts(actor, actor_role, power, strong)[path]

    if path == "a key acting as someone stronger" and "accounts.add_apikey" not in held:
        with pytest.raises(PermissionDenied):
            attempt()
        return
    attempt()

    granted = {
        "give myself a role": lambda: User.objects.get(pk=actor.pk).has_perm(WANTED),
        "add to a role I hold": lambda: actor_role.permissions.filter(
            codename="delete_asset"
        ).exists(),
        "create a role": lambda: (
            Group.objects.get(name="Mine").permissions.filter(codename="delete_asset").exists()
        ),
        "edit a role I do not hold": lambda: (
            Group.objects.get(name="Other").permissions.filter(codename="delete_asset").exists()
        ),
        "a second account": lambda: User.objects.get(email="puppet@alpha.example").has_perm(WANTED),
        "a key acting as someone stronger": lambda: APIKey.objects.filter(user=strong).exists(),
    }
    assert granted[path]()


def test_a_lead_may_make_someone_assignable(alpha):
    tenant_update(tenant=alpha, actor="test", max_users=None)
    roles = roles_provision_defaults()
    admin = user_create(email="a@alpha.example", password=None, roles=[roles[BuiltinRole.ADMIN]])
    assert not admin.has_perm("requests_app.work_on_requests")

    tech = services.user_invite(
        by=admin, email="t@alpha.example", roles=[roles[BuiltinRole.TECHNICIAN]]
    )

    assert tech.has_perm("requests_app.work_on_requests")


def test_the_role_page_refuses_a_permission_the_editor_lacks(setup, alpha_client):
    actor, actor_role, _power, _strong = setup(("auth.change_group",), holds_wanted=False)
    alpha_client.force_login(actor)
    wanted = perms(WANTED)[0]
    held = list(actor_role.permissions.values_list("pk", flat=True))

    response = alpha_client.post(
        f"/accounts/roles/{actor_role.pk}/",
        {"name": "Actor", "permissions": [*held, wanted.pk]},
    )

    assert response.status_code == 200
    assert "You cannot give permissions you do not hold yourself" in response.content.decode()
    assert not actor_role.permissions.filter(pk=wanted.pk).exists()


def test_the_api_refuses_giving_oneself_a_stronger_role(setup, alpha, api_for):
    client, manager, _key = api_for(alpha, role=BuiltinRole.MANAGER)
    # A manager who may edit users (a custom role adds it) still cannot take Admin.
    extra = Group.objects.create(name="User editor")
    extra.permissions.set(perms("accounts.change_user", "accounts.view_user"))
    manager.groups.add(extra)
    admin_role = Group.objects.get(name=BuiltinRole.ADMIN.value)

    response = client.patch(
        f"/api/v1/users/{manager.pk}/",
        {"roles": [*manager.groups.values_list("name", flat=True), admin_role.name]},
    )

    assert response.status_code == 400, response.content
    assert "roles" in response.json()["fields"]
    assert not manager.groups.filter(pk=admin_role.pk).exists()


# --- The last Admin ------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"is_active": False},
        {"roles": ["Manager"]},
        {"roles": []},
        {"roles": ["Requester"], "is_active": False},
    ],
    ids=["deactivated", "demoted", "stripped", "both"],
)
@pytest.mark.parametrize("by", ["self", "another editor"])
def test_the_last_admin_cannot_be_removed_deactivated_or_demoted(alpha, change, by):
    tenant_update(tenant=alpha, actor="test", max_users=None)
    roles = roles_provision_defaults()
    admin = user_create(email="only@alpha.example", password=None, roles=[roles[BuiltinRole.ADMIN]])
    editor_role = Group.objects.create(name="Editors")
    # Holds every permission of the built-in roles: only the last-Admin rule can refuse.
    editor_role.permissions.set(
        perms("accounts.*", "auth.*", "assets.*", "attachments.*", "requests_app.*", "preventive.*")
    )
    editor = user_create(email="ed@alpha.example", password=None, roles=[editor_role])
    by_user = admin if by == "self" else editor
    wanted = {
        "full_name": "",
        "is_active": change.get("is_active", True),
        "roles": [roles[BuiltinRole(name)] for name in change.get("roles", ["Admin"])],
    }

    with pytest.raises(ValidationError) as refused:
        services.user_update(user=admin, by=by_user, **wanted)

    message = " ".join(refused.value.messages)
    if by == "self" and not wanted["is_active"]:
        assert "You cannot deactivate your own account" in message
    else:
        assert "is the last active Admin" in message

    admin.refresh_from_db()
    assert admin.is_active
    assert list(admin.groups.values_list("name", flat=True)) == ["Admin"]


# --- The platform's Django admin -------------------------------------------------------


@pytest.mark.parametrize("superuser", [False, True])
def test_only_a_superuser_gives_permissions_in_the_django_admin(public_tenant, superuser):
    editor = user_create(
        email="staff@localhost", password=None, is_staff=True, is_superuser=superuser
    )
    request = RequestFactory().get("/admin/accounts/user/")
    request.user = editor

    readonly = admin.site._registry[User].get_readonly_fields(request, editor)

    for field in ("is_staff", "is_superuser", "groups", "user_permissions"):
        assert (field in readonly) is not superuser
