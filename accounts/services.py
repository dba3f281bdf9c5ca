"""Writes for accounts: every path that creates or changes a user comes here."""

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import NotificationPreference, TechnicianTrade, Trade, User
from accounts.roles import BUILTIN_ROLE_PERMISSIONS, BuiltinRole, role_permissions, takes_a_seat
from accounts.selectors import ROLE_PERMISSION_APPS, role_is_builtin, user_settings
from billing import limits
from tenants.selectors import current_tenant


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
    plan's user limit unless the user's only role is Requester. The rule is
    the user manager's (accounts.managers), which createsuperuser calls too.
    """
    return User.objects.user_create(
        email=email, password=password, full_name=full_name, roles=roles, **extra_fields
    )


def roles_provision_defaults() -> dict[str, Group]:
    """Create the built-in roles in the current schema, or bring them up to date."""
    roles = {}
    for role, specs in BUILTIN_ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role.value)
        group.permissions.set(role_permissions(specs))
        roles[role] = group
    return roles


# --- Users, as a tenant admin manages them ----------------------------------------


def _is_admin(roles) -> bool:
    return any(role.name == BuiltinRole.ADMIN.value for role in roles)


def _lock_admin_role() -> None:
    """
    Serialise changes that could take away an Admin: two admins demoting
    each other at the same moment must not leave the tenant with none.
    The Admin group's row is the lock (held until the transaction ends).
    """
    list(Group.objects.select_for_update().filter(name=BuiltinRole.ADMIN.value))


@transaction.atomic
def user_invite(
    *,
    email: str,
    full_name: str = "",
    roles: list[Group] | tuple = (),
    password: str | None = None,
    trades: list[str] | tuple = (),
) -> User:
    """
    Add a member of staff from the tenant admin's page: ``user_create`` (which
    takes a seat unless the only role is Requester) plus trades, in one
    transaction, so a plan limit or a bad password writes nothing.
    Without a password the account cannot log in until one is set.
    """
    # Check everything the person typed up front, so the form shows every
    # mistake at once (user_create would stop at the first).
    candidate, errors = User(email=email, full_name=full_name), {}
    try:
        candidate.full_clean(exclude=["password"])
    except ValidationError as error:
        errors.update(error.message_dict)
    if password:
        try:
            validate_password(password, candidate)
        except ValidationError as error:
            errors["password"] = error.messages
    if errors:
        raise ValidationError(errors)
    user = user_create(
        email=email, password=password or None, full_name=full_name, roles=list(roles)
    )
    user_trades_set(user=user, trades=trades)
    return user


@transaction.atomic
def user_update(
    *,
    user: User,
    by: User,
    full_name: str,
    roles: list[Group] | tuple,
    is_active: bool,
    trades: list[str] | tuple = (),
    password: str | None = None,
) -> User:
    """
    Change a user's name, roles, active flag and trades, and set a new
    password if one is given (there is no e-mailed reset yet).

    Users are deactivated, never deleted: requests, comments and history keep
    pointing at them. Refused, with nothing written: deactivating yourself
    (you would lock yourself out mid-session), leaving the tenant without an
    active Admin, and taking a seat (reactivating, or giving a requester-only
    user another role) beyond the plan's ``max_users``.
    """
    roles = list(roles)
    if user.pk == by.pk and not is_active:
        raise ValidationError(
            {"is_active": _("You cannot deactivate your own account.")}, code="deactivate_self"
        )

    old_roles = list(user.groups.all())
    if _is_admin(old_roles) and user.is_active and not (is_active and _is_admin(roles)):
        _lock_admin_role()
        other_admins = User.objects.filter(
            is_active=True, groups__name=BuiltinRole.ADMIN.value
        ).exclude(pk=user.pk)
        if not other_admins.exists():
            raise ValidationError(
                _(
                    "%(user)s is the last active Admin. Give another active user the "
                    "Admin role first."
                )
                % {"user": user},
                code="last_admin",
            )

    tenant = current_tenant()
    had_seat = user.is_active and takes_a_seat(role.name for role in old_roles)
    takes_seat = is_active and takes_a_seat(role.name for role in roles)
    if takes_seat and not had_seat and not tenant.is_public:
        limits.reserve(tenant, limits.Resource.USERS)

    user.full_name = full_name
    user.is_active = is_active
    user.full_clean(exclude=["password"])
    fields = ["full_name", "is_active"]
    if password:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from None
        user.set_password(password)
        fields.append("password")
    user.save(update_fields=fields)
    user.groups.set(roles)
    user_trades_set(user=user, trades=trades)
    return user


def user_deactivate(*, user: User, by: User) -> User:
    """Deactivate ``user``, keeping everything else: ``user_update``'s guards apply."""
    current = user_settings(user)
    current["is_active"] = False
    return user_update(user=user, by=by, **current)


@transaction.atomic
def profile_update(*, user: User, full_name: str) -> User:
    """What a user may change about themselves: their name (e-mail is their login)."""
    user.full_name = full_name.strip()
    user.full_clean(exclude=["password"])
    user.save(update_fields=["full_name"])
    return user


class UnknownTrade(ValidationError, ValueError):
    """A trade that is not one of ``Trade``: bad input for the form, a bad value for code."""


@transaction.atomic
def user_trades_set(*, user: User, trades) -> list[str]:
    """
    Make ``trades`` exactly the trades ``user`` works in; return them, sorted.
    Raise UnknownTrade (a ValidationError on ``trades``) for a trade that
    does not exist, writing nothing.
    """
    trades = set(trades)
    unknown = trades - set(Trade.values)
    if unknown:
        raise UnknownTrade(
            {"trades": _("Unknown trade: %(trade)s.") % {"trade": ", ".join(sorted(unknown))}}
        )
    TechnicianTrade.objects.filter(user=user).exclude(trade__in=trades).delete()
    # ignore_conflicts: a concurrent call may have added the same trade.
    TechnicianTrade.objects.bulk_create(
        [TechnicianTrade(user=user, trade=trade) for trade in sorted(trades)],
        ignore_conflicts=True,
    )
    return sorted(trades)


# --- Notification preferences ---------------------------------------------------------


@transaction.atomic
def notification_preferences_update(*, user: User, **kinds) -> NotificationPreference:
    """Turn kinds of notification on (True) or off (False) for ``user``."""
    unknown = set(kinds) - set(NotificationPreference.KINDS)
    if unknown:
        raise TypeError(f"Unknown notification kinds: {sorted(unknown)}.")
    preference, _created = NotificationPreference.objects.select_for_update().get_or_create(
        user=user
    )
    for kind, wanted in kinds.items():
        setattr(preference, kind, bool(wanted))
    preference.save()
    return preference


# --- Custom roles -------------------------------------------------------------------


def _role_clean(*, name: str, permissions, role: Group | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the role a name.")}, code="role_name_missing")
    # Case-insensitive: "requester" next to "Requester" would confuse people and
    # not get the Requester's free seat, which keys on the exact name.
    if name.lower() in {role.value.lower() for role in BuiltinRole}:
        raise ValidationError(
            {"name": _("%(name)s is the name of a built-in role.") % {"name": name}},
            code="role_name_reserved",
        )
    clash = Group.objects.filter(name__iexact=name)
    if role is not None:
        clash = clash.exclude(pk=role.pk)
    if clash.exists():
        raise ValidationError(
            {"name": _("A role named %(name)s already exists.") % {"name": name}},
            code="role_name_taken",
        )
    outside = [
        permission
        for permission in permissions
        if permission.content_type.app_label not in ROLE_PERMISSION_APPS
    ]
    if outside:
        raise ValidationError(
            {"permissions": _("These permissions cannot be given to a role.")},
            code="role_permission_not_allowed",
        )
    return name


def _refuse_builtin(role: Group) -> None:
    if role_is_builtin(role):
        raise ValidationError(
            _("%(role)s is a built-in role and cannot be changed or deleted.") % {"role": role},
            code="role_builtin",
        )


@transaction.atomic
def role_create(*, name: str, permissions) -> Group:
    """A custom role: a group with any of the permissions of ROLE_PERMISSION_APPS."""
    permissions = list(permissions)
    name = _role_clean(name=name, permissions=permissions)
    role = Group.objects.create(name=name)
    role.permissions.set(permissions)
    return role


@transaction.atomic
def role_update(*, role: Group, name: str, permissions) -> Group:
    """
    Rename a custom role or change its permissions; built-in roles are kept
    in step with the code by ``roles_provision_defaults`` and are read-only.
    Seats do not change: they key on role names, and a custom role is never
    the free Requester seat.
    """
    _refuse_builtin(role)
    permissions = list(permissions)
    role.name = _role_clean(name=name, permissions=permissions, role=role)
    role.save(update_fields=["name"])
    role.permissions.set(permissions)
    return role


@transaction.atomic
def role_delete(*, role: Group) -> None:
    """
    Delete a custom role nobody holds. A role in use is refused rather than
    silently taken from its holders: that could strip someone of the only
    access they have, and the admin should decide who gets what instead.
    Deactivated holders count too, so reactivating them gives no surprises.
    """
    _refuse_builtin(role)
    role = Group.objects.select_for_update().get(pk=role.pk)
    holders = role.user_set.count()
    if holders:
        raise ValidationError(
            ngettext(
                "%(count)d user holds the role %(role)s. Take it from them first.",
                "%(count)d users hold the role %(role)s. Take it from them first.",
                holders,
            )
            % {"count": holders, "role": role},
            code="role_in_use",
        )
    role.delete()
