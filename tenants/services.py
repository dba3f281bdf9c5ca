"""
Writes for tenants: creating organisations, their routing and their state
(suspension, trial, cancellation, deletion). The plan a tenant is on and its
limits are billing's to decide (billing.services); here they are plain fields.
"""

import shutil
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from tenants.models import DeletedTenant, Domain, Tenant, TenantAuditEntry
from tenants.provisioning import schema_create, schema_drop
from tenants.selectors import subdomain_is_held
from tenants.validators import validate_subdomain

PLATFORM_NAME = "SmartMaintenance"
SYSTEM_ACTOR = "system"

# Every organisation starts with a trial of the plan it chose; when the trial
# ends without a paid subscription it becomes read-only for a grace period,
# then suspended (docs/tenants.md).
TRIAL_PERIOD = timedelta(days=14)
TRIAL_GRACE_PERIOD = timedelta(days=7)


def tenant_domain_for(subdomain: str) -> str:
    return f"{subdomain}.{settings.BASE_DOMAIN}"


def schema_name_for(subdomain: str) -> str:
    """
    A schema name that no tenant has ever had. Schema names are not reused,
    even after a tenant is deleted, so old backups never match a new tenant.
    """
    base = "t_" + subdomain.replace("-", "_")[:56]
    candidate, suffix = base, 1
    while (
        schema_exists(candidate)
        or Tenant.objects.filter(schema_name=candidate).exists()
        or DeletedTenant.objects.filter(schema_name=candidate).exists()
    ):
        suffix += 1
        candidate = f"{base}_{suffix}"
    return candidate


def audit(tenant: Tenant, *, actor: str, action: str, changes: dict | None = None) -> None:
    TenantAuditEntry.objects.create(
        tenant=tenant, tenant_name=tenant.name, actor=actor, action=action, changes=changes or {}
    )


@transaction.atomic
def public_tenant_ensure(*, plan: str) -> Tenant:
    """
    The platform's own tenant (public schema) and its main domain; idempotent.
    ``plan`` is billing's to choose (billing.services.public_tenant_ensure).
    """
    tenant, _created = Tenant.objects.get_or_create(
        schema_name=get_public_schema_name(),
        defaults={"name": PLATFORM_NAME, "status": Tenant.Status.ACTIVE, "plan": plan},
    )
    Domain.objects.get_or_create(
        domain=settings.BASE_DOMAIN, defaults={"tenant": tenant, "is_primary": True}
    )
    return tenant


def subdomain_validate_available(subdomain: str) -> None:
    """Raise ValidationError saying why ``subdomain`` cannot be taken now."""
    validate_subdomain(subdomain)
    if Tenant.objects.filter(subdomain=subdomain).exists():
        raise ValidationError("This subdomain is already taken.", code="taken")
    if subdomain_is_held(subdomain):
        raise ValidationError(
            "This subdomain belonged to a deleted organisation and is not available yet.",
            code="held",
        )


@transaction.atomic
def tenant_create(
    *,
    name: str,
    subdomain: str,
    plan: str,
    status: str = Tenant.Status.TRIAL,
    actor: str = SYSTEM_ACTOR,
    **fields,
) -> Tenant:
    """
    Create an organisation: its row, its domain and its schema, all or nothing.
    PostgreSQL DDL is transactional, so a failure at any step leaves no schema.
    ``plan`` and the limits in ``fields`` are billing's to choose: create
    tenants with billing.services.tenant_create, which sets both.
    """
    with schema_context(get_public_schema_name()):
        subdomain_validate_available(subdomain)
        tenant = Tenant(
            name=name,
            subdomain=subdomain,
            schema_name=schema_name_for(subdomain),
            plan=plan,
            status=status,
            trial_ends=timezone.now() + TRIAL_PERIOD if status == Tenant.Status.TRIAL else None,
            **fields,
        )
        tenant.full_clean()
        tenant.save()
        Domain.objects.create(domain=tenant_domain_for(subdomain), tenant=tenant, is_primary=True)
        schema_create(tenant.schema_name)
        audit(tenant, actor=actor, action="create", changes={"plan": plan, "status": status})
    return tenant


def _change(tenant: Tenant, *, actor: str, action: str, **values) -> Tenant:
    changes = {
        field: [str(getattr(tenant, field)), str(value)]
        for field, value in values.items()
        if getattr(tenant, field) != value
    }
    for field, value in values.items():
        setattr(tenant, field, value)
    try:
        tenant.full_clean()
    except ValidationError:
        tenant.refresh_from_db()
        raise
    with schema_context(get_public_schema_name()), transaction.atomic():
        tenant.save()
        audit(tenant, actor=actor, action=action, changes=changes)
    return tenant


def tenant_suspend(*, tenant: Tenant, reason: str, actor: str = SYSTEM_ACTOR) -> Tenant:
    if not reason.strip():
        raise ValidationError({"suspension_reason": "Give a reason for the suspension."})
    return _change(
        tenant,
        actor=actor,
        action="suspend",
        status=Tenant.Status.SUSPENDED,
        suspension_reason=reason,
    )


def tenant_reactivate(*, tenant: Tenant, actor: str = SYSTEM_ACTOR) -> Tenant:
    return _change(
        tenant, actor=actor, action="reactivate", status=Tenant.Status.ACTIVE, suspension_reason=""
    )


def tenant_cancel(*, tenant: Tenant, actor: str = SYSTEM_ACTOR) -> Tenant:
    return _change(tenant, actor=actor, action="cancel", status=Tenant.Status.CANCELLED)


def tenant_extend_trial(*, tenant: Tenant, days: int, actor: str = SYSTEM_ACTOR) -> Tenant:
    if days <= 0:
        raise ValidationError({"trial_ends": "Extend the trial by at least one day."})
    start = max(tenant.trial_ends or timezone.now(), timezone.now())
    status = Tenant.Status.TRIAL if tenant.status == Tenant.Status.SUSPENDED else tenant.status
    return _change(
        tenant,
        actor=actor,
        action="extend_trial",
        trial_ends=start + timedelta(days=days),
        status=status,
    )


def tenant_update(*, tenant: Tenant, actor: str, action: str = "update", **values) -> Tenant:
    """Any other change to a tenant's fields, audited as ``action``."""
    return _change(tenant, actor=actor, action=action, **values)


# How long a deleted organisation's subdomain stays unavailable, so that
# links, bookmarks and e-mails pointing at it never reach a stranger.
SUBDOMAIN_HOLD_PERIOD = timedelta(days=90)


@transaction.atomic
def tenant_delete(*, tenant: Tenant, actor: str, export_path: str = "") -> DeletedTenant:
    """
    Drop the tenant's schema and rows, leaving a DeletedTenant record that
    holds its subdomain back for SUBDOMAIN_HOLD_PERIOD and its schema name
    forever. Export first (tenants.exports): this cannot be undone.
    """
    if tenant.is_public:
        raise ValidationError("The platform's own tenant cannot be deleted.")
    with schema_context(get_public_schema_name()):
        now = timezone.now()
        tombstone = DeletedTenant.objects.create(
            name=tenant.name,
            subdomain=tenant.subdomain,
            schema_name=tenant.schema_name,
            deleted=now,
            subdomain_released=now + SUBDOMAIN_HOLD_PERIOD,
            export_path=export_path,
        )
        audit(tenant, actor=actor, action="delete", changes={"export": export_path})
        with connection.cursor() as cursor:
            # Rows written earlier in this transaction leave deferred foreign-key
            # checks pending, and PostgreSQL refuses to drop tables that have some.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_drop(tenant.schema_name)
        media = Path(settings.MEDIA_ROOT) / tenant.schema_name
        transaction.on_commit(lambda: shutil.rmtree(media, ignore_errors=True))
        tenant.domains.all().delete()
        tenant.delete()
    return tombstone


TRIAL_ENDED_REASON = "The trial ended without a paid subscription."


def tenants_suspend_expired_trials(*, now=None) -> list[Tenant]:
    """
    Suspend every tenant whose trial ended more than TRIAL_GRACE_PERIOD ago.
    Idempotent; run it daily (``manage.py tenant_lifecycle``).
    """
    cutoff = (now or timezone.now()) - TRIAL_GRACE_PERIOD
    expired = Tenant.objects.filter(status=Tenant.Status.TRIAL, trial_ends__lte=cutoff)
    return [
        tenant_suspend(tenant=tenant, reason=TRIAL_ENDED_REASON, actor=SYSTEM_ACTOR)
        for tenant in expired
    ]
