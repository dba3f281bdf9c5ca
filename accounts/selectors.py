"""Reads for accounts."""

from django.contrib.auth.models import Group, Permission
from django.db.models import Count, Q, QuerySet

from accounts.models import NotificationPreference, TechnicianTrade, User
from accounts.roles import FREE_SEAT_ROLE, MANAGE_ALL_REQUESTS, WORK_ON_REQUESTS, BuiltinRole


# ``has_perm`` caches a user's permissions on the object: one query per user.
def user_is_lead(user) -> bool:
    """True for those who see and steer every request (admins, managers)."""
    return getattr(user, "is_active", False) and user.has_perm(MANAGE_ALL_REQUESTS)


def user_is_technician(user) -> bool:
    """True for those a request can be assigned to."""
    return getattr(user, "is_active", False) and user.has_perm(WORK_ON_REQUESTS)


def user_is_tenant_admin(user) -> bool:
    """
    True for those who run the organisation's settings (details, branding):
    holders of the built-in Admin role. A custom role cannot grant it, as
    those settings have no permission of their own.
    """
    if not getattr(user, "is_active", False):
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name=BuiltinRole.ADMIN.value).exists()


def user_trades(user) -> list[str]:
    """The trades ``user`` works in, sorted."""
    return sorted(TechnicianTrade.objects.filter(user=user).values_list("trade", flat=True))


def notification_preferences_get(user) -> NotificationPreference:
    """The user's preferences, or the defaults (all on, unsaved) if never changed."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(
        user=user
    )


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


def seats_taken_count(tenant=None, now=None) -> int:
    """
    Active users counting against the plan's ``max_users``: all but those
    whose only role is Requester. accounts registers it as billing's counter
    of users (AccountsConfig.ready()).
    """
    free_seats = (
        User.objects.annotate(role_count=Count("groups"))
        .filter(role_count=1, groups__name=FREE_SEAT_ROLE)
        .values("pk")
    )
    return User.objects.filter(is_active=True).exclude(pk__in=free_seats).count()


# --- Users and roles, for the tenant admin's pages -----------------------------------

# The apps whose permissions a custom role may hold: the product's own and
# auth (who may manage roles). Not contenttypes, sessions or third-party apps.
ROLE_PERMISSION_APPS = (
    "accounts",
    "auth",
    "attachments",
    "assets",
    "requests_app",
    "preventive",
    "webhooks",
)


def user_list() -> QuerySet[User]:
    """Every user of the tenant, active first, with roles and trades in two more queries."""
    return User.objects.order_by("-is_active", "email").prefetch_related("groups", "trades")


def user_settings(user: User) -> dict:
    """What services.user_update takes about ``user``, as it stands: where an edit starts."""
    return {
        "full_name": user.full_name,
        "roles": list(user.groups.all()),
        "trades": [trade.trade for trade in user.trades.all()],
        "is_active": user.is_active,
    }


def user_get(*, pk) -> User:
    return User.objects.prefetch_related("groups", "trades").get(pk=pk)


def role_is_builtin(role: Group) -> bool:
    return role.name in BuiltinRole.values


def role_list() -> QuerySet[Group]:
    """Every role, with how many users (active or not) hold it and its permission count."""
    return Group.objects.annotate(
        user_count=Count("user", distinct=True),
        active_user_count=Count("user", filter=Q(user__is_active=True), distinct=True),
        permission_count=Count("permissions", distinct=True),
    ).order_by("name")


def role_get(*, pk) -> Group:
    return Group.objects.prefetch_related("permissions__content_type").get(pk=pk)


def role_assignable_permissions() -> QuerySet[Permission]:
    """The permissions a custom role may hold, grouped by app then model."""
    return (
        Permission.objects.filter(content_type__app_label__in=ROLE_PERMISSION_APPS)
        .select_related("content_type")
        .order_by("content_type__app_label", "content_type__model", "codename")
    )
