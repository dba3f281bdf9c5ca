"""Reads about tenants."""

from django.db import connection
from django.utils import timezone

from tenants.models import DeletedTenant, Tenant


def current_tenant() -> Tenant:
    """The tenant whose schema the connection is in (the public one included)."""
    tenant = connection.tenant
    if isinstance(tenant, Tenant):
        return tenant
    return Tenant.objects.get(schema_name=connection.schema_name)


def subdomain_is_held(subdomain: str, now=None) -> bool:
    """True while a deleted tenant's subdomain is held back from reuse."""
    return DeletedTenant.objects.filter(
        subdomain=subdomain, subdomain_released__gt=now or timezone.now()
    ).exists()


def tenant_list():
    """Every organisation, without the platform's own (public) tenant."""
    return Tenant.objects.exclude(subdomain=None)
