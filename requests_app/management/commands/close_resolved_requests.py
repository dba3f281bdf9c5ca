from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_public_schema_name, tenant_context

from requests_app.services import requests_close_resolved
from tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "Close requests resolved longer ago than their tenant's auto-close days. "
        "Idempotent; run daily (or hourly)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "subdomain", nargs="?", help="Only this tenant (default: every tenant)."
        )

    def handle(self, *args, subdomain=None, **options):
        tenants = Tenant.objects.exclude(schema_name=get_public_schema_name()).order_by("pk")
        if subdomain:
            tenants = tenants.filter(subdomain=subdomain)
            if not tenants:
                raise CommandError(f"No tenant with subdomain {subdomain!r}.")
        total = 0
        for tenant in tenants:
            with tenant_context(tenant):
                closed = requests_close_resolved()
            if closed:
                self.stdout.write(f"{tenant.subdomain}: closed {closed} resolved request(s).")
            total += closed
        self.stdout.write(self.style.SUCCESS(f"{total} request(s) closed."))
