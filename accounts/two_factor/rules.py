"""Who must use a second factor, and who has one."""

from django.db import connection
from django_otp import devices_for_user
from django_tenants.utils import get_public_schema_name

from accounts.roles import BuiltinRole
from billing import limits
from billing.plans import Feature

# The tenant's switch, in Tenant.settings (only honoured while the plan has the feature).
TENANT_SETTING = "require_two_factor"


def tenant_requires_two_factor(tenant) -> bool:
    """Whether ``tenant`` requires a second factor of its admins now."""
    return bool((tenant.settings or {}).get(TENANT_SETTING)) and limits.has_feature(
        tenant, Feature.REQUIRE_TWO_FACTOR
    )


def two_factor_required(user, tenant) -> bool:
    """
    Platform admins always; a tenant's admins (the Admin role) when the
    tenant requires it; nobody else.
    """
    if not (user and user.is_authenticated and user.is_active):
        return False
    if connection.schema_name == get_public_schema_name():
        return user.is_staff or user.is_superuser
    return (
        tenant_requires_two_factor(tenant)
        and user.groups.filter(name=BuiltinRole.ADMIN.value).exists()
    )


def user_has_two_factor(user) -> bool:
    """Whether ``user`` has a confirmed device (an app, or recovery codes left)."""
    return any(True for _device in devices_for_user(user, confirmed=True))
