from django_tenants.utils import tenant_context

from requests_app.services import requests_close_resolved
from tenants.management.base import PerTenantCommand


class Command(PerTenantCommand):
    help = (
        "Close requests resolved longer ago than their tenant's auto-close days. "
        "Idempotent; run daily (or hourly)."
    )

    def handle(self, *args, subdomain=None, **options):
        total = 0
        for tenant in self.tenants(subdomain):
            with tenant_context(tenant):
                closed = requests_close_resolved()
            if closed:
                self.stdout.write(f"{tenant.subdomain}: closed {closed} resolved request(s).")
            total += closed
        self.stdout.write(self.style.SUCCESS(f"{total} request(s) closed."))
