"""
No self-escalation: nobody hands out a permission they do not hold.

Every path that gives permissions away comes here: giving someone roles
(``services.user_invite`` / ``user_update``), creating or editing a role
(``services.role_create`` / ``role_update``) and making an API key that acts
as someone (``api_keys.api_key_create``). The rule is the same for all of
them, whoever receives the permissions: a user who may not hold a right
cannot get it through a role they edit and then hold, nor through a second
account or a key they control.

One exception, because it widens nothing: a lead (``MANAGE_ALL_REQUESTS``)
already sees and steers every request, so they may make someone assignable
(``WORK_ON_REQUESTS``), which is what the built-in Admin does when it gives
someone the Technician role.
"""

from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.roles import MANAGE_ALL_REQUESTS, WORK_ON_REQUESTS


def permission_name(permission: Permission) -> str:
    """``"app_label.codename"``, the form ``has_perm`` takes."""
    return f"{permission.content_type.app_label}.{permission.codename}"


def may_grant(by, permission: str) -> bool:
    """Whether ``by`` may hand out ``permission`` ("app_label.codename")."""
    if by is None or not by.is_active:
        return False
    if by.has_perm(permission):
        return True
    return permission == WORK_ON_REQUESTS and by.has_perm(MANAGE_ALL_REQUESTS)


def permissions_refuse_escalation(*, by, permissions, field: str) -> None:
    """
    Raise a ValidationError on ``field`` naming the permissions among
    ``permissions`` that ``by`` does not hold, writing nothing.
    """
    missing = sorted(
        {permission_name(p) for p in permissions if not may_grant(by, permission_name(p))}
    )
    if missing:
        message = _("You cannot give permissions you do not hold yourself: %(permissions)s.")
        # The code on the field's own error: a dict's codes are not kept otherwise.
        raise ValidationError(
            {
                field: ValidationError(
                    message % {"permissions": ", ".join(missing)}, code="escalation"
                )
            }
        )


def role_permissions_of(roles) -> set[Permission]:
    """Every permission the groups ``roles`` carry."""
    return set(
        Permission.objects.filter(group__in=list(roles)).select_related("content_type").distinct()
    )


def user_permissions_of(user) -> set[Permission]:
    """Every permission ``user`` holds, through roles or directly (superusers: all)."""
    if user.is_superuser:
        return set(Permission.objects.select_related("content_type"))
    return set(Permission.objects.filter(group__user=user).select_related("content_type")) | set(
        user.user_permissions.select_related("content_type")
    )
