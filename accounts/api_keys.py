"""
API keys: making, revoking and checking them. The web UI, the API and
admin all come here, so the rules (who may make one, what it shows) hold
everywhere.
"""

import functools
import hashlib
import hmac
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.backends import permissions_remember, permissions_subquery_sql
from accounts.grants import permissions_refuse_escalation, user_permissions_of
from accounts.models import APIKey, User
from audit.models import Action
from audit.services import audit_record, changes_between

KEY_PREFIX = "smk_"
# last_used is a hint for admins ("is this key still in use?"), not an audit
# log, so it is written at most once every ten minutes (GitLab's tokens do
# the same): a busy key does not write a row on every call, and 1,000
# tenants' keys cost ~2 writes a second, not ~17 (bench/scale.py).
LAST_USED_RESOLUTION = timedelta(minutes=10)
MANAGE_PERMISSION = "accounts.add_apikey"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _split(raw_key: str) -> tuple[str, str] | None:
    if not raw_key.startswith(KEY_PREFIX):
        return None
    prefix, _sep, secret = raw_key[len(KEY_PREFIX) :].partition("_")
    if not prefix or not secret:
        return None
    return prefix, secret


def api_key_prefix(raw_key: str) -> str | None:
    """The prefix of a string shaped like one of our keys, or None for anything else."""
    parts = _split(raw_key)
    return parts[0] if parts else None


def api_key_may_manage(user) -> bool:
    """Whether ``user`` may make and revoke the tenant's API keys (its admins)."""
    return bool(user and user.is_active and user.has_perm(MANAGE_PERMISSION))


@transaction.atomic
def api_key_create(
    *, by: User, name: str, access: str = APIKey.Access.READ_ONLY, user: User | None = None
):
    """
    Make a key; returns ``(key, raw_key)``. ``raw_key`` is the only copy of
    the secret: show it once.

    The key acts as ``user``: by default the admin ``by`` who makes it, or a
    service account (an ordinary user, e.g. ``integration@…`` with the role
    the integration needs), so that an integration gets no more rights than
    its job takes. ``by`` must hold every permission ``user`` has
    (accounts.grants): a key is no way to act with rights one lacks.
    """
    if not api_key_may_manage(by):
        raise PermissionDenied(_("Only administrators can create API keys."))
    user = user or by
    if not user.is_active:
        raise ValidationError({"user": _("This account is deactivated.")}, code="inactive")
    if user.pk != by.pk:
        permissions_refuse_escalation(by=by, permissions=user_permissions_of(user), field="user")
    key = APIKey(
        name=name.strip(),
        access=access,
        user=user,
        prefix=secrets.token_hex(6),
    )
    secret = secrets.token_urlsafe(32)
    key.hashed_secret = _hash(secret)
    key.full_clean(exclude=["prefix", "hashed_secret", "user"])
    key.save()
    audit_record(
        action=Action.API_KEY_CREATED,
        target=key,
        actor=by,
        changes=changes_between(
            {}, {"name": key.name, "access": key.access, "user": user.email, "prefix": key.prefix}
        ),
    )
    return key, f"{KEY_PREFIX}{key.prefix}_{secret}"


@transaction.atomic
def api_key_revoke(*, key: APIKey, by: User) -> APIKey:
    """Revoke ``key`` for good. Revoking a revoked key changes nothing."""
    if not api_key_may_manage(by):
        raise PermissionDenied(_("Only administrators can revoke API keys."))
    if key.revoked is None:
        key.revoked = timezone.now()
        key.save(update_fields=["revoked"])
        audit_record(action=Action.API_KEY_REVOKED, target=key, actor=by)
    return key


def api_key_list() -> QuerySet[APIKey]:
    """Every key of the tenant, newest first, with the user it acts as."""
    return APIKey.objects.select_related("user")


@functools.cache
def _lookup_sql() -> tuple[str, list, list]:
    """
    The SQL that finds an active key by its prefix (one parameter), with
    its user's row and that user's permissions, and the fields its first
    columns fill: the key's, then the user's; the last column is the
    permissions, an array of ``"app_label.codename"``.

    Every API call runs it, so it is written once, from the models, rather
    than built and compiled by the ORM on each call (a third of the key
    check's time). It says what ``APIKey.objects.select_related("user")
    .filter(prefix=…, revoked__isnull=True, user__is_active=True)`` says,
    and reads the permissions the request's ``has_perm`` will need in the
    same round trip (``accounts.backends``). Only table and column names
    from the models go in, quoted.
    """
    quote = connection.ops.quote_name
    key, user = APIKey._meta, User._meta
    key_table, user_table = quote(key.db_table), quote(user.db_table)
    key_fields, user_fields = list(key.concrete_fields), list(user.concrete_fields)
    user_id = f"{user_table}.{quote(user.pk.column)}"
    columns = [
        *(f"{key_table}.{quote(field.column)}" for field in key_fields),
        *(f"{user_table}.{quote(field.column)}" for field in user_fields),
        f"ARRAY({permissions_subquery_sql(user_id)})",
    ]
    sql = (
        f"SELECT {', '.join(columns)} FROM {key_table} "  # noqa: S608 - names from the models
        f"INNER JOIN {user_table} ON {user_id} = "
        f"{key_table}.{quote(key.get_field('user').column)} "
        f"WHERE {key_table}.{quote(key.get_field('prefix').column)} = %s "
        f"AND {key_table}.{quote(key.get_field('revoked').column)} IS NULL "
        f"AND {user_table}.{quote(user.get_field('is_active').column)}"
    )
    return sql, key_fields, user_fields


def _instance(model, fields, values):
    """A model instance from its columns, through the fields' converters as the ORM would."""
    values = list(values)
    for index, field in enumerate(fields):
        for converter in field.get_db_converters(connection):
            values[index] = converter(values[index], field, connection)
    return model.from_db(connection.alias, [field.attname for field in fields], values)


def _active_key_with_user(prefix: str) -> APIKey | None:
    """
    The active key of ``prefix`` whose user is active, the user and the
    user's permissions loaded with it; or None.
    """
    sql, key_fields, user_fields = _lookup_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [prefix])
        row = cursor.fetchone()  # the prefix is unique
    if row is None:
        return None
    *values, permissions = row
    key = _instance(APIKey, key_fields, values[: len(key_fields)])
    key.user = _instance(User, user_fields, values[len(key_fields) :])
    permissions_remember(key.user, permissions)
    return key


def api_key_authenticate(raw_key: str) -> APIKey | None:
    """
    The active key ``raw_key`` stands for, with its user, or None. Keys live
    in the tenant's schema: another tenant's key is simply not found.
    """
    parts = _split(raw_key)
    if parts is None:
        return None
    prefix, secret = parts
    key = _active_key_with_user(prefix)
    if key is None or not hmac.compare_digest(key.hashed_secret, _hash(secret)):
        return None
    now = timezone.now()
    if key.last_used is None or now - key.last_used >= LAST_USED_RESOLUTION:
        _last_used_stamp(key, now)
    return key


def _last_used_stamp(key: APIKey, now) -> None:
    """
    Record when ``key`` was last used. Over many keys (one per tenant, each
    used now and then) this write comes on a good share of calls, and its
    commit would wait for the disk: as its own transaction it commits
    without waiting (``synchronous_commit = off``), since a crash can lose
    at most this hint, never leave anything inconsistent. Inside a caller's
    transaction it is an ordinary write of that transaction: SET LOCAL would
    reach the caller's own writes too.
    """
    if connection.in_atomic_block:
        APIKey.objects.filter(pk=key.pk).update(last_used=now)
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            APIKey.objects.filter(pk=key.pk).update(last_used=now)
    key.last_used = now
