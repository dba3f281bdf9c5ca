"""The tenant admin's user pages: who may use them, seats, and the deactivate guards."""

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import ValidationError

from accounts.models import TechnicianTrade, User
from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create, user_update
from billing import limits
from tenants.services import tenant_update


@pytest.fixture
def roles(alpha):
    return roles_provision_defaults()


@pytest.fixture
def people(alpha, roles):
    tenant_update(tenant=alpha, actor="test", max_users=None)
    return {
        name: user_create(
            email=f"{name}@alpha.example",
            password=None,
            full_name=name.title(),
            roles=[roles[role]],
        )
        for name, role in [
            ("admin", BuiltinRole.ADMIN),
            ("manager", BuiltinRole.MANAGER),
            ("tech", BuiltinRole.TECHNICIAN),
            ("ann", BuiltinRole.REQUESTER),
        ]
    }


@pytest.fixture
def admin_client(alpha_client, people):
    alpha_client.force_login(people["admin"])
    return alpha_client


def role_names(user) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


# --- Who may use the pages ------------------------------------------------------------


@pytest.mark.parametrize("who", ["tech", "ann"])
@pytest.mark.parametrize("url", ["/accounts/users/", "/accounts/users/new/"])
def test_technicians_and_requesters_are_refused(alpha_client, people, who, url):
    alpha_client.force_login(people[who])

    response = alpha_client.get(url)

    assert response.status_code == 403
    assert b"ann@alpha.example" not in response.content


def test_requester_cannot_post_an_edit(alpha_client, people, roles):
    alpha_client.force_login(people["ann"])

    response = alpha_client.post(
        f"/accounts/users/{people['ann'].pk}/",
        {"full_name": "Ann", "roles": [roles[BuiltinRole.ADMIN].pk], "is_active": "on"},
    )

    assert response.status_code == 403
    assert role_names(people["ann"]) == ["Requester"]


def test_a_manager_may_list_but_not_edit(alpha_client, people):
    alpha_client.force_login(people["manager"])

    listing = alpha_client.get("/accounts/users/")
    edit = alpha_client.get(f"/accounts/users/{people['tech'].pk}/")

    assert listing.status_code == 200
    assert b"tech@alpha.example" in listing.content
    assert f'href="/accounts/users/{people["tech"].pk}/"'.encode() not in listing.content
    assert edit.status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(alpha_client, people):
    response = alpha_client.get("/accounts/users/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_settings_link_shows_only_to_those_allowed(alpha_client, people):
    alpha_client.force_login(people["admin"])
    assert b'href="/settings/"' in alpha_client.get("/requests/").content
    alpha_client.force_login(people["tech"])
    assert b'href="/settings/"' not in alpha_client.get("/requests/").content


# --- Listing and creating -------------------------------------------------------------


def test_the_list_shows_roles_trades_active_and_seats(admin_client, people):
    TechnicianTrade.objects.create(user=people["tech"], trade="plumbing")
    people["manager"].is_active = False
    people["manager"].save()

    content = admin_client.get("/accounts/users/").content.decode()

    assert "tech@alpha.example" in content and "Plumbing" in content
    assert "No (deactivated)" in content
    # admin and tech take seats; ann is a free requester, manager is inactive.
    assert "Seats used: 2." in content


def test_an_admin_creates_a_user_with_roles_trades_and_password(admin_client, roles):
    response = admin_client.post(
        "/accounts/users/new/",
        {
            "email": "New.Tech@Alpha.Example",
            "full_name": "New Tech",
            "roles": [roles[BuiltinRole.TECHNICIAN].pk],
            "trades": ["electrical", "hvac"],
            "password": "a-long-enough-password-2024",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(email="new.tech@alpha.example")
    assert user.full_name == "New Tech"
    assert role_names(user) == ["Technician"]
    assert sorted(user.trades.values_list("trade", flat=True)) == ["electrical", "hvac"]
    assert user.check_password("a-long-enough-password-2024")


def test_a_user_created_without_a_password_is_invited(admin_client, roles):
    mail.outbox.clear()
    admin_client.post(
        "/accounts/users/new/",
        {"email": "nopass@alpha.example", "roles": [roles[BuiltinRole.REQUESTER].pk]},
    )

    assert not User.objects.get(email="nopass@alpha.example").has_usable_password()
    # The invitation flow itself: tests/test_ui_invitations.py.
    assert [message.to for message in mail.outbox] == [["nopass@alpha.example"]]
    assert "/accounts/invitation/" in mail.outbox[0].body


def test_form_errors_duplicate_email_and_weak_password(admin_client, people):
    response = admin_client.post(
        "/accounts/users/new/", {"email": "tech@alpha.example", "password": "123"}
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "email" in errors and "already exists" in errors["email"][0]
    assert "password" in errors
    assert User.objects.filter(email="tech@alpha.example").count() == 1


def test_reaching_the_user_limit_is_a_form_error_and_writes_nothing(admin_client, alpha, roles):
    used = limits.usage(alpha, limits.Resource.USERS)
    tenant_update(tenant=alpha, actor="test", max_users=used)
    users_before = User.objects.count()

    response = admin_client.post(
        "/accounts/users/new/",
        {
            "email": "one-too-many@alpha.example",
            "roles": [roles[BuiltinRole.TECHNICIAN].pk],
            "trades": ["plumbing"],
        },
    )

    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert f"allows {used} users" in errors[0]
    assert f"allows {used} users" in response.content.decode()
    assert User.objects.count() == users_before
    assert not TechnicianTrade.objects.filter(user__email="one-too-many@alpha.example").exists()

    # A requester is free, so it still fits.
    admin_client.post(
        "/accounts/users/new/",
        {"email": "free@alpha.example", "roles": [roles[BuiltinRole.REQUESTER].pk]},
    )
    assert User.objects.filter(email="free@alpha.example").exists()


# --- Editing ----------------------------------------------------------------------------


def edit(client, user, **data):
    data = {"full_name": user.full_name, "is_active": "on", **data}
    if data["is_active"] is None:
        del data["is_active"]
    return client.post(f"/accounts/users/{user.pk}/", data)


def test_editing_name_roles_and_trades(admin_client, people, roles):
    tech = people["tech"]
    response = edit(
        admin_client,
        tech,
        full_name="Tess Tech",
        roles=[roles[BuiltinRole.TECHNICIAN].pk, roles[BuiltinRole.MANAGER].pk],
        trades=["hvac"],
    )

    assert response.status_code == 302
    tech.refresh_from_db()
    assert tech.full_name == "Tess Tech"
    assert role_names(tech) == ["Manager", "Technician"]
    assert list(tech.trades.values_list("trade", flat=True)) == ["hvac"]


def test_the_edit_form_starts_from_the_users_current_values(admin_client, people):
    TechnicianTrade.objects.create(user=people["tech"], trade="electrical")

    form = admin_client.get(f"/accounts/users/{people['tech'].pk}/").context["form"]

    assert form.initial["full_name"] == "Tech"
    assert [role.name for role in form.initial["roles"]] == ["Technician"]
    assert form.initial["trades"] == ["electrical"]


def test_promoting_a_requester_at_the_limit_is_refused(admin_client, alpha, people, roles):
    tenant_update(tenant=alpha, actor="test", max_users=limits.usage(alpha, limits.Resource.USERS))
    ann = people["ann"]

    response = edit(admin_client, ann, roles=[roles[BuiltinRole.TECHNICIAN].pk])

    assert response.status_code == 200
    assert "plan allows" in response.context["form"].non_field_errors()[0]
    assert role_names(ann) == ["Requester"]


def test_reactivating_a_seat_at_the_limit_is_refused(admin_client, alpha, people, roles):
    tech = people["tech"]
    tech.is_active = False
    tech.save()
    tenant_update(tenant=alpha, actor="test", max_users=limits.usage(alpha, limits.Resource.USERS))

    response = edit(admin_client, tech, roles=[roles[BuiltinRole.TECHNICIAN].pk])

    assert "plan allows" in response.context["form"].non_field_errors()[0]
    tech.refresh_from_db()
    assert not tech.is_active


def test_deactivating_a_user_keeps_them_and_frees_their_seat(admin_client, alpha, people, roles):
    used = limits.usage(alpha, limits.Resource.USERS)

    edit(admin_client, people["tech"], is_active=None, roles=[roles[BuiltinRole.TECHNICIAN].pk])

    people["tech"].refresh_from_db()
    assert not people["tech"].is_active
    assert limits.usage(alpha, limits.Resource.USERS) == used - 1


def test_an_admin_cannot_deactivate_themselves(admin_client, people, roles):
    admin = people["admin"]
    response = edit(admin_client, admin, is_active=None, roles=[roles[BuiltinRole.ADMIN].pk])

    assert response.status_code == 200
    assert "cannot deactivate your own account" in response.context["form"].errors["is_active"][0]
    admin.refresh_from_db()
    assert admin.is_active


def test_the_last_active_admin_keeps_the_role(admin_client, people, roles):
    admin = people["admin"]

    response = edit(admin_client, admin, roles=[roles[BuiltinRole.MANAGER].pk])

    assert response.status_code == 200
    assert "last active Admin" in response.context["form"].non_field_errors()[0]
    assert role_names(admin) == ["Admin"]


def test_another_admin_makes_the_change_possible(admin_client, people, roles):
    second = user_create(
        email="second@alpha.example", password=None, roles=[roles[BuiltinRole.ADMIN]]
    )

    # The first admin may now step down to manager.
    edit(admin_client, people["admin"], roles=[roles[BuiltinRole.MANAGER].pk])
    assert role_names(people["admin"]) == ["Manager"]

    # ...and the second cannot be deactivated: an inactive admin does not count.
    second_admin = User.objects.get(pk=second.pk)
    with pytest.raises(ValidationError, match="last active Admin"):
        user_update(
            user=second_admin,
            by=people["manager"],
            full_name="",
            roles=[roles[BuiltinRole.ADMIN]],
            is_active=False,
        )
    assert User.objects.get(pk=second.pk).is_active


def test_an_unknown_user_is_404(admin_client):
    assert admin_client.get("/accounts/users/999999/").status_code == 404


def test_setting_a_new_password(admin_client, people, roles):
    edit(
        admin_client,
        people["tech"],
        roles=[roles[BuiltinRole.TECHNICIAN].pk],
        password="another-long-password-2024",
    )

    people["tech"].refresh_from_db()
    assert people["tech"].check_password("another-long-password-2024")
    assert Group.objects.filter(name="Technician", user=people["tech"]).exists()
