"""
Permission checks in one query.

Django's ``ModelBackend`` reads a user's permissions in two queries, those
held directly and those of their roles (groups), on the first ``has_perm``
of each user object. ``PermissionBackend`` reads the same set in one query
(a UNION of both sources, written once as SQL from the models) and keeps it
where ``ModelBackend`` keeps it, ``user._perm_cache``, so that
``ModelBackend``, listed after it in ``AUTHENTICATION_BACKENDS``, answers
from it too and queries nothing.

An API key's user needs not even that query: the key lookup reads the
user's permissions in its own statement (``permissions_subquery_sql``) and
hands them over with ``permissions_remember`` (accounts/api_keys.py).

The set lives on the user object, as Django's does: a request loads its
user afresh (session or API key), so a role or permission given or taken
away applies from the next request on. Nothing is cached across requests.

``ModelBackend`` stays in the settings for what this backend does not do:
logging in (sessions name the backend that logged them in, so replacing it
would log everybody out), ``has_module_perms`` and ``with_perm``. This one
only answers permissions.
"""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections

# Where ModelBackend.get_all_permissions() keeps a user's permission set.
PERM_CACHE = "_perm_cache"


@functools.cache
def permissions_subquery_sql(user_id: str = "%s") -> str:
    """
    SQL for the ``"app_label.codename"`` of every permission a user holds
    directly or through a role (not a superuser's implicit ones), as a
    subquery of one column. ``user_id`` is the SQL for the user's id: ``%s``
    (a parameter, given twice) or a column of an enclosing query, such as the
    API-key lookup's (``accounts.api_keys``). Written once from the models:
    only their table and column names go in, quoted.
    """
    quote = connections["default"].ops.quote_name  # PostgreSQL's, whatever the alias
    user_meta = get_user_model()._meta
    direct = user_meta.get_field("user_permissions")
    roles = user_meta.get_field("groups")
    role_permissions = Group._meta.get_field("permissions")
    permission = Permission._meta
    content_type = ContentType._meta
    permission_table = quote(permission.db_table)
    content_type_table = quote(content_type.db_table)
    direct_table = quote(direct.m2m_db_table())
    roles_table = quote(roles.m2m_db_table())
    role_permissions_table = quote(role_permissions.m2m_db_table())
    app_label = f"{content_type_table}.{quote(content_type.get_field('app_label').column)}"
    codename = f"{permission_table}.{quote(permission.get_field('codename').column)}"
    return (
        f"SELECT {app_label} || '.' || {codename} "  # noqa: S608 - names from the models
        f"FROM {permission_table} INNER JOIN {content_type_table} "
        f"ON {content_type_table}.{quote(content_type.pk.column)} = "
        f"{permission_table}.{quote(permission.get_field('content_type').column)} "
        f"WHERE {permission_table}.{quote(permission.pk.column)} IN ("
        # held directly
        f"SELECT {direct_table}.{quote(direct.m2m_reverse_name())} FROM {direct_table} "
        f"WHERE {direct_table}.{quote(direct.m2m_column_name())} = {user_id} "
        "UNION "
        # held through a role
        f"SELECT {role_permissions_table}.{quote(role_permissions.m2m_reverse_name())} "
        f"FROM {role_permissions_table} INNER JOIN {roles_table} "
        f"ON {roles_table}.{quote(roles.m2m_reverse_name())} = "
        f"{role_permissions_table}.{quote(role_permissions.m2m_column_name())} "
        f"WHERE {roles_table}.{quote(roles.m2m_column_name())} = {user_id})"
    )


def permissions_load(user) -> set[str]:
    """
    Every permission ``user`` holds, as ``"app_label.codename"``, in one
    query: the set ``ModelBackend.get_all_permissions`` gives (superusers:
    every permission there is).
    """
    using = user._state.db or "default"
    if user.is_superuser:
        return {
            f"{app_label}.{codename}"
            for app_label, codename in Permission.objects.using(using).values_list(
                "content_type__app_label", "codename"
            )
        }
    with connections[using].cursor() as cursor:
        cursor.execute(permissions_subquery_sql(), [user.pk, user.pk])
        return {name for (name,) in cursor.fetchall()}


def permissions_remember(user, permissions) -> None:
    """
    Give ``user``, just loaded, the permissions read with it in the same
    query (``permissions_subquery_sql`` over its id), so that ``has_perm``
    asks the database nothing more during this request. Superusers hold
    every permission, which that subquery does not list: theirs are loaded
    on first use as usual.
    """
    if user.is_active and not user.is_superuser:
        setattr(user, PERM_CACHE, set(permissions))


class PermissionBackend:
    """
    Answers ``has_perm`` from one query a user object (see the module's
    docstring). List it before ``ModelBackend``.

    It authenticates nobody and has no ``get_user``: sessions (and the test
    client's ``force_login``, which takes the first backend with one) go on
    naming ``ModelBackend``.
    """

    def authenticate(self, request, **credentials):
        return None

    async def aauthenticate(self, request, **credentials):
        return None

    def get_all_permissions(self, user_obj, obj=None):
        # ModelBackend's rules: inactive and anonymous users hold nothing,
        # and there are no per-object permissions.
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, PERM_CACHE):
            setattr(user_obj, PERM_CACHE, permissions_load(user_obj))
        return getattr(user_obj, PERM_CACHE)

    def has_perm(self, user_obj, perm, obj=None):
        return perm in self.get_all_permissions(user_obj, obj)
