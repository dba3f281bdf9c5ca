"""
Permission checks in one query (accounts/backends.py): the same answers as
Django's ModelBackend, one query a user object instead of two (none more for
an API key's user, whose permissions come with the key), and a role or
permission given or taken away applies from the next call on.
"""

import pytest
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.api_keys import api_key_authenticate, api_key_create
from accounts.models import User
from accounts.roles import MANAGE_ALL_REQUESTS, WORK_ON_REQUESTS, BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from requests_app import services

URL = "/api/v1/requests/"


def permission(name: str) -> Permission:
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def stock_permissions(user: User) -> set[str]:
    """What Django's own ModelBackend says ``user`` holds (its two queries)."""
    return ModelBackend().get_all_permissions(User.objects.get(pk=user.pk))


def fresh(user: User) -> User:
    """``user`` as the next request loads it: no permission cached."""
    return User.objects.get(pk=user.pk)


def test_it_answers_before_model_backend():
    backends = settings.AUTHENTICATION_BACKENDS
    assert backends.index("accounts.backends.PermissionBackend") < backends.index(
        "django.contrib.auth.backends.ModelBackend"
    )


@pytest.fixture
def roomy(alpha, api_for):
    """alpha on a plan with API access and no user limit."""
    api_for(alpha)
    return alpha


def test_the_same_permissions_as_model_backend_in_one_query(roomy):
    roles = roles_provision_defaults()
    extra = Group.objects.create(name="Extra")
    extra.permissions.add(permission("assets.add_location"))
    user = user_create(
        email="mixed@alpha.example",
        password=None,
        roles=[roles[BuiltinRole.TECHNICIAN], extra],
    )
    user.user_permissions.add(permission("assets.delete_asset"), permission(WORK_ON_REQUESTS))
    expected = stock_permissions(user)
    assert {"assets.add_location", "assets.delete_asset", WORK_ON_REQUESTS} <= expected

    user = fresh(user)
    with CaptureQueriesContext(connection) as captured:
        assert user.has_perm("assets.delete_asset")  # held directly
        assert user.has_perm("assets.add_location")  # through a custom role
        assert user.has_perm(WORK_ON_REQUESTS)  # both ways
        assert not user.has_perm(MANAGE_ALL_REQUESTS)  # asked of ModelBackend too: cached
        assert user.has_module_perms("assets")
        assert user.get_all_permissions() == expected
    assert len(captured) == 1, [query["sql"] for query in captured]


def test_no_permission_without_roles_and_none_for_the_inactive(roomy):
    nobody = fresh(user_create(email="nobody@alpha.example", password=None))
    assert nobody.get_all_permissions() == set() == stock_permissions(nobody)
    assert not nobody.has_perm(MANAGE_ALL_REQUESTS)

    roles = roles_provision_defaults()
    gone = user_create(email="gone@alpha.example", password=None, roles=[roles[BuiltinRole.ADMIN]])
    gone.user_permissions.add(permission("assets.delete_asset"))
    gone.is_active = False
    gone.save()
    gone = fresh(gone)
    with CaptureQueriesContext(connection) as captured:
        assert not gone.has_perm(MANAGE_ALL_REQUESTS)
        assert not gone.has_perm("assets.delete_asset")
        assert gone.get_all_permissions() == set()
    assert len(captured) == 0


def test_a_superuser_holds_every_permission(roomy):
    boss = fresh(
        user_create(email="root@alpha.example", password=None, is_superuser=True, is_staff=True)
    )
    assert boss.has_perm(MANAGE_ALL_REQUESTS)
    assert boss.get_all_permissions() == stock_permissions(boss)
    assert len(boss.get_all_permissions()) == Permission.objects.count()


def test_a_keys_user_comes_with_its_permissions(alpha, api_for):
    client, user, _key = api_for(alpha, role=BuiltinRole.MANAGER)
    raw_key = client.defaults["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    expected = stock_permissions(user)
    api_key_authenticate(raw_key)  # stamps last_used, at most once every ten minutes
    with CaptureQueriesContext(connection) as captured:
        key = api_key_authenticate(raw_key)
        assert key.user.pk == user.pk
        assert key.user.has_perm(MANAGE_ALL_REQUESTS)
        assert not key.user.has_perm("auth.change_group")  # Admin only
        assert key.user.get_all_permissions() == expected
    assert len(captured) == 1, [query["sql"] for query in captured]


def test_a_superusers_key_holds_every_permission(roomy):
    roles = roles_provision_defaults()
    admin = user_create(
        email="keyboss@alpha.example", password=None, roles=[roles[BuiltinRole.ADMIN]]
    )
    boss = user_create(email="root@alpha.example", password=None, is_superuser=True)
    admin.is_superuser = True  # may hand out a superuser's rights
    admin.save()
    _key, raw_key = api_key_create(by=admin, user=boss, name="root")
    key = api_key_authenticate(raw_key)
    assert key.user.has_perm("auth.change_group")
    assert key.user.get_all_permissions() == stock_permissions(boss)


@pytest.fixture
def requester_with_key(alpha, api_for):
    """A requester with a key, one request of theirs and one of someone else."""
    client, user, _key = api_for(alpha, role=BuiltinRole.REQUESTER)
    _other_client, other, _other_key = api_for(alpha, role=BuiltinRole.REQUESTER)
    services.request_create(title="Mine", requester=user)
    services.request_create(title="Theirs", requester=other)
    return client, user


def titles(client):
    response = client.get(URL)
    assert response.status_code == 200, response.content
    return sorted(row["title"] for row in response.json()["results"])


def test_a_role_given_or_taken_applies_on_the_next_call(requester_with_key):
    client, user = requester_with_key
    manager = Group.objects.get(name=BuiltinRole.MANAGER)
    assert titles(client) == ["Mine"]
    user.groups.add(manager)
    assert titles(client) == ["Mine", "Theirs"]
    user.groups.remove(manager)
    assert titles(client) == ["Mine"]


def test_a_roles_permission_changed_applies_on_the_next_call(requester_with_key):
    client, _user = requester_with_key
    role = Group.objects.get(name=BuiltinRole.REQUESTER)
    assert titles(client) == ["Mine"]
    role.permissions.add(permission(MANAGE_ALL_REQUESTS))
    assert titles(client) == ["Mine", "Theirs"]
    role.permissions.remove(permission(MANAGE_ALL_REQUESTS))
    assert titles(client) == ["Mine"]


def test_a_direct_permission_given_or_taken_applies_on_the_next_call(requester_with_key):
    client, user = requester_with_key
    assert titles(client) == ["Mine"]
    user.user_permissions.add(permission(MANAGE_ALL_REQUESTS))
    assert titles(client) == ["Mine", "Theirs"]
    user.user_permissions.remove(permission(MANAGE_ALL_REQUESTS))
    assert titles(client) == ["Mine"]


def test_a_session_users_permissions_are_read_afresh_each_request(roomy, alpha_client):
    roles = roles_provision_defaults()
    user = user_create(
        email="web@alpha.example", password=None, roles=[roles[BuiltinRole.REQUESTER]]
    )
    other = user_create(
        email="other@alpha.example", password=None, roles=[roles[BuiltinRole.REQUESTER]]
    )
    services.request_create(title="Mine", requester=user)
    services.request_create(title="Theirs", requester=other)
    alpha_client.force_login(user)
    assert titles(alpha_client) == ["Mine"]
    user.groups.add(roles[BuiltinRole.MANAGER])
    assert titles(alpha_client) == ["Mine", "Theirs"]
    user.groups.remove(roles[BuiltinRole.MANAGER])
    assert titles(alpha_client) == ["Mine"]
