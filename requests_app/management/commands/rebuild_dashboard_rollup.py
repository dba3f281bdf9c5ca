from django_tenants.utils import tenant_context

from requests_app.dashboard.rollup import dashboard_rollup_rebuild
from tenants.management.base import PerTenantCommand


class Command(PerTenantCommand):
    help = (
        "Recount the dashboard's monthly rollup from the requests, in the tenant's time zone. "
        "Run after changing a tenant's time zone, after loading requests behind the services' "
        "back, or to repair; safe while the tenant is in use (writers wait for it)."
    )

    def handle(self, *args, subdomain=None, **options):
        for tenant in self.tenants(subdomain):
            with tenant_context(tenant):
                counted = dashboard_rollup_rebuild()
            self.stdout.write(f"{tenant.subdomain}: {counted} request(s) counted.")
        self.stdout.write(self.style.SUCCESS("Dashboard rollup rebuilt."))
