"""Writes for tenants: creating, routing and changing the state of organisations."""

from django.conf import settings
from django.db import transaction
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from tenants.models import Domain, Tenant
from tenants.provisioning import schema_create
from tenants.validators import validate_subdomain

PLATFORM_NAME = "SmartMaintenance"


def tenant_domain_for(subdomain: str) -> str:
    return f"{subdomain}.{settings.BASE_DOMAIN}"


def schema_name_for(subdomain: str) -> str:
    """
    A schema name that no tenant has ever had. Schema names are not reused,
    even after a tenant is deleted, so old backups never match a new tenant.
    """
    base = "t_" + subdomain.replace("-", "_")[:56]
    candidate, suffix = base, 1
    while schema_exists(candidate) or Tenant.objects.filter(schema_name=candidate).exists():
        suffix += 1
        candidate = f"{base}_{suffix}"
    return candidate


@transaction.atomic
def public_tenant_ensure() -> Tenant:
    """The platform's own tenant (public schema) and its main domain; idempotent."""
    tenant, _created = Tenant.objects.get_or_create(
        schema_name=get_public_schema_name(),
        defaults={"name": PLATFORM_NAME, "status": Tenant.Status.ACTIVE},
    )
    Domain.objects.get_or_create(
        domain=settings.BASE_DOMAIN, defaults={"tenant": tenant, "is_primary": True}
    )
    return tenant


@transaction.atomic
def tenant_create(*, name: str, subdomain: str, status: str = Tenant.Status.TRIAL) -> Tenant:
    """
    Create an organisation: its row, its domain and its schema, all or nothing.
    PostgreSQL DDL is transactional, so a failure at any step leaves no schema.
    """
    validate_subdomain(subdomain)
    with schema_context(get_public_schema_name()):
        tenant = Tenant(
            name=name, subdomain=subdomain, schema_name=schema_name_for(subdomain), status=status
        )
        tenant.full_clean()
        tenant.save()
        Domain.objects.create(domain=tenant_domain_for(subdomain), tenant=tenant, is_primary=True)
        schema_create(tenant.schema_name)
    return tenant


def tenant_suspend(*, tenant: Tenant) -> Tenant:
    tenant.status = Tenant.Status.SUSPENDED
    tenant.save(update_fields=["status", "updated"])
    return tenant
