from django_tenants.utils import tenant_context

from requests_app.notifications import requests_notify_sla_breaches
from tenants.management.base import PerTenantCommand


class Command(PerTenantCommand):
    help = (
        "E-mail the assignee and the admins and managers about open requests past "
        "their due date. Idempotent (each breach is notified once); run every few minutes."
    )

    def handle(self, *args, subdomain=None, **options):
        total = 0
        for tenant in self.tenants(subdomain):
            with tenant_context(tenant):
                notified = requests_notify_sla_breaches()
            if notified:
                self.stdout.write(f"{tenant.subdomain}: {notified} overdue request(s) notified.")
            total += notified
        self.stdout.write(self.style.SUCCESS(f"{total} overdue request(s) notified."))
