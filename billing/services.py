"""
Writes for billing: putting a tenant on a plan. The tenant's row is tenants'
(tenants.services creates, audits and changes it); which plan it is on, and
the limits that come with it, are decided here.
"""

import zoneinfo
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from billing.limits import Resource, usage
from billing.models import UsageSnapshot
from billing.plans import PlanCode, plan_limits
from tenants import services as tenant_services
from tenants.models import Tenant


def tenant_create(*, name: str, subdomain: str, plan: str = PlanCode.FREE, **fields) -> Tenant:
    """
    tenants.services.tenant_create (row, domain and schema, all or nothing),
    with ``plan`` and its limits: what every new organisation starts with.
    """
    return tenant_services.tenant_create(
        name=name, subdomain=subdomain, plan=plan, **plan_limits(plan), **fields
    )


def public_tenant_ensure() -> Tenant:
    """The platform's own tenant and main domain, on the unlimited plan; idempotent."""
    return tenant_services.public_tenant_ensure(plan=PlanCode.ENTERPRISE)


def tenant_change_plan(
    *, tenant: Tenant, plan: str, actor: str = tenant_services.SYSTEM_ACTOR
) -> Tenant:
    """Move to ``plan``; its limits replace the tenant's (overrides can be set again after)."""
    return tenant_services.tenant_update(
        tenant=tenant,
        actor=actor,
        action="change_plan",
        plan=PlanCode(plan).value,
        **plan_limits(plan),
    )


def storage_used(tenant) -> int:
    """Bytes of the tenant's uploaded files (its folder under MEDIA_ROOT)."""
    folder = Path(settings.MEDIA_ROOT) / tenant.schema_name
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def usage_snapshot_take(*, tenant: Tenant, now=None) -> UsageSnapshot:
    """Record ``tenant``'s usage for its local date; idempotent within the day."""
    now = now or timezone.now()
    snapshot, _created = UsageSnapshot.objects.update_or_create(
        tenant=tenant,
        day=now.astimezone(zoneinfo.ZoneInfo(tenant.timezone)).date(),
        defaults={
            "users": usage(tenant, Resource.USERS, now),
            "assets": usage(tenant, Resource.ASSETS, now),
            "requests_this_month": usage(tenant, Resource.REQUESTS, now),
            "storage_bytes": storage_used(tenant),
            "plan": tenant.plan,
        },
    )
    return snapshot
