"""Reads for accounts."""

from django.contrib.auth.models import Permission
from django.db.models import Q, QuerySet

from accounts.models import User


def user_list_with_permission(permission: str) -> QuerySet[User]:
    """
    Active users who hold ``permission`` ("app_label.codename") through one of
    their roles or directly: the set that ``user.has_perm`` answers True for,
    as one query.
    """
    app_label, codename = permission.split(".")
    granted = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return User.objects.filter(
        Q(groups__permissions__in=granted) | Q(user_permissions__in=granted) | Q(is_superuser=True),
        is_active=True,
    ).distinct()
