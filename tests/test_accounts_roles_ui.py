"""The tenant admin's role pages: built-in roles read-only, custom roles, workflow rights."""

import pytest
from django.contrib.auth.models import Group, Permission

from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from requests_app.selectors import lead_list, technician_list
from tenants.services import tenant_update


@pytest.fixture
def roles(alpha):
    tenant_update(tenant=alpha, actor="test", max_users=None)
    return roles_provision_defaults()


@pytest.fixture
def people(roles):
    return {
        name: user_create(email=f"{name}@alpha.example", password=None, roles=[roles[role]])
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


def perm(key: str) -> Permission:
    app_label, codename = key.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def codenames(role) -> list[str]:
    return sorted(role.permissions.values_list("codename", flat=True))


@pytest.mark.parametrize("who", ["tech", "ann", "manager"])
def test_only_those_with_group_permissions_may_use_the_pages(alpha_client, people, roles, who):
    alpha_client.force_login(people[who])

    assert alpha_client.get("/accounts/roles/").status_code == 403
    assert alpha_client.get("/accounts/roles/new/").status_code == 403
    response = alpha_client.post("/accounts/roles/new/", {"name": "Sneaky"})
    assert response.status_code == 403
    assert not Group.objects.filter(name="Sneaky").exists()


def test_the_list_marks_built_in_roles(admin_client):
    Group.objects.create(name="Electricians")

    content = admin_client.get("/accounts/roles/").content.decode()

    assert content.count("Built-in, read-only") == 4
    assert "Electricians" in content and "Custom" in content


def test_the_form_groups_permissions_by_app_and_explains_the_workflow_ones(admin_client):
    content = admin_client.get("/accounts/roles/new/").content.decode()

    assert "Request workflow" in content
    assert "Makes a lead" in content and "Makes someone assignable" in content
    assert "Can see every request and triage, assign and steer it" in content
    for heading in ("Accounts", "Assets", "Maintenance requests", "Authentication"):
        assert heading in content
    assert "Can add asset" in content
    # Each permission once: the workflow ones are not repeated under their app.
    assert content.count(f'value="{perm("requests_app.work_on_requests").pk}"') == 1


def test_creating_a_custom_role(admin_client):
    response = admin_client.post(
        "/accounts/roles/new/",
        {
            "name": "Electricians",
            "permissions": [
                perm("requests_app.view_maintenancerequest").pk,
                perm("requests_app.work_on_requests").pk,
            ],
        },
    )

    assert response.status_code == 302
    role = Group.objects.get(name="Electricians")
    assert codenames(role) == ["view_maintenancerequest", "work_on_requests"]


@pytest.mark.parametrize("name", ["Admin", "requester", " Technician "])
def test_built_in_names_are_reserved(admin_client, name):
    response = admin_client.post("/accounts/roles/new/", {"name": name})

    assert response.status_code == 200
    assert "built-in role" in response.context["form"].errors["name"][0]
    assert Group.objects.count() == 4


def test_a_name_is_taken_whatever_its_case(admin_client):
    Group.objects.create(name="Electricians")

    response = admin_client.post("/accounts/roles/new/", {"name": "ELECTRICIANS"})

    assert "already exists" in response.context["form"].errors["name"][0]


def test_permissions_outside_the_product_apps_are_refused(admin_client):
    foreign = Permission.objects.filter(content_type__app_label="contenttypes").first()

    response = admin_client.post(
        "/accounts/roles/new/", {"name": "Odd", "permissions": [foreign.pk]}
    )

    assert "permissions" in response.context["form"].errors
    assert not Group.objects.filter(name="Odd").exists()


def test_editing_a_custom_role(admin_client):
    role = Group.objects.create(name="Electricians")
    role.permissions.set([perm("assets.view_asset")])

    form = admin_client.get(f"/accounts/roles/{role.pk}/").context["form"]
    assert form.initial["permissions"] == [perm("assets.view_asset").pk]

    response = admin_client.post(
        f"/accounts/roles/{role.pk}/",
        {"name": "Sparks", "permissions": [perm("assets.change_asset").pk]},
    )

    assert response.status_code == 302
    role.refresh_from_db()
    assert role.name == "Sparks"
    assert codenames(role) == ["change_asset"]


def test_built_in_roles_are_shown_read_only_and_cannot_be_changed(admin_client, roles):
    technician = roles[BuiltinRole.TECHNICIAN]
    before = codenames(technician)

    page = admin_client.get(f"/accounts/roles/{technician.pk}/")
    response = admin_client.post(
        f"/accounts/roles/{technician.pk}/",
        {"name": "Renamed", "permissions": [perm("accounts.add_user").pk]},
    )

    assert "built-in, read-only" in page.content.decode()
    assert all(field.disabled for field in page.context["form"].fields.values())
    assert "cannot be changed" in response.context["form"].non_field_errors()[0]
    technician.refresh_from_db()
    assert technician.name == "Technician"
    assert codenames(technician) == before


def test_deleting_an_unused_custom_role(admin_client):
    role = Group.objects.create(name="Temporary")

    assert admin_client.get(f"/accounts/roles/{role.pk}/delete/").status_code == 200
    response = admin_client.post(f"/accounts/roles/{role.pk}/delete/")

    assert response.status_code == 302
    assert not Group.objects.filter(pk=role.pk).exists()


def test_a_role_in_use_is_not_deleted(admin_client, people):
    role = Group.objects.create(name="Electricians")
    people["ann"].groups.add(role)
    people["ann"].is_active = False  # deactivated holders count too
    people["ann"].save()

    response = admin_client.post(f"/accounts/roles/{role.pk}/delete/", follow=True)

    assert "1 user holds the role Electricians" in response.content.decode()
    assert Group.objects.filter(pk=role.pk).exists()
    assert people["ann"].groups.filter(pk=role.pk).exists()


def test_a_built_in_role_is_not_deleted(admin_client, roles):
    admin_client.post(f"/accounts/roles/{roles[BuiltinRole.MANAGER].pk}/delete/")

    assert Group.objects.filter(name="Manager").exists()


def test_a_custom_role_with_work_on_requests_makes_its_holder_assignable(
    admin_client, people, roles
):
    admin_client.post(
        "/accounts/roles/new/",
        {
            "name": "Lead electrician",
            "permissions": [
                perm("requests_app.view_maintenancerequest").pk,
                perm("requests_app.work_on_requests").pk,
                perm("requests_app.manage_all_requests").pk,
            ],
        },
    )
    role = Group.objects.get(name="Lead electrician")
    ann = people["ann"]
    assert ann not in technician_list()

    response = admin_client.post(
        f"/accounts/users/{ann.pk}/",
        {"full_name": "Ann", "is_active": "on", "roles": [role.pk], "trades": ["electrical"]},
    )

    assert response.status_code == 302
    assert ann in technician_list()
    assert ann in lead_list()
