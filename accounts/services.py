"""Writes for accounts: every path that creates or changes a user comes here."""

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from accounts.models import User
from accounts.roles import BUILTIN_ROLE_PERMISSIONS, role_permissions
from tenants import limits
from tenants.selectors import current_tenant


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None,
    full_name: str = "",
    roles: list[Group] | tuple = (),
    **extra_fields,
) -> User:
    """
    Create a user in the current schema: a staff member of the current
    tenant, or a platform admin in the public schema. Counts against the
    plan's user limit unless the user's only role is Requester.
    """
    user = User(email=email, full_name=full_name, **extra_fields)
    user.full_clean(exclude=["password"])
    if password is not None:
        validate_password(password, user)
    user.set_password(password)

    tenant = current_tenant()
    if not tenant.is_public and limits.takes_a_seat(role.name for role in roles):
        limits.reserve(tenant, limits.Resource.USERS)
    user.save()
    if roles:
        user.groups.set(roles)
    return user


def roles_provision_defaults() -> dict[str, Group]:
    """Create the built-in roles in the current schema, or bring them up to date."""
    roles = {}
    for role, specs in BUILTIN_ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role.value)
        group.permissions.set(role_permissions(specs))
        roles[role] = group
    return roles
