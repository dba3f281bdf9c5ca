from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_public_schema_name

from tenants.models import Tenant


class PerTenantCommand(BaseCommand):
    """A command that does its work in every tenant's schema, or in the one named."""

    def add_arguments(self, parser):
        parser.add_argument(
            "subdomain", nargs="?", help="Only this tenant (default: every tenant)."
        )

    @staticmethod
    def tenants(subdomain=None):
        tenants = Tenant.objects.exclude(schema_name=get_public_schema_name()).order_by("pk")
        if subdomain:
            tenants = tenants.filter(subdomain=subdomain)
            if not tenants:
                raise CommandError(f"No tenant with subdomain {subdomain!r}.")
        return tenants
