"""Reads of the main domain that look across tenants."""

from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from accounts.models import User
from tenants.models import Tenant


def organisations_for_email(email: str) -> list[Tenant]:
    """
    The organisations where ``email`` has an active account, by name. One
    query per tenant schema, so it runs in a task (main_site.tasks), never
    in a web request. Suspended organisations are left out: nobody can log
    in to them.
    """
    email = User.objects.normalize_email(email).lower()
    with schema_context(get_public_schema_name()):
        tenants = list(
            Tenant.objects.exclude(subdomain=None)
            .exclude(status=Tenant.Status.SUSPENDED)
            .prefetch_related("domains")
            .order_by("name")
        )
    found = []
    for tenant in tenants:
        with tenant_context(tenant):
            if User.objects.filter(email=email, is_active=True).exists():
                found.append(tenant)
    return found
