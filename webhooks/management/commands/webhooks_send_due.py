from django_tenants.utils import tenant_context

from tenants.management.base import PerTenantCommand
from webhooks.tasks import deliveries_enqueue_due


class Command(PerTenantCommand):
    help = (
        "Queue again the webhook deliveries whose task was lost (broker down, worker killed): "
        "those overdue by more than 5 minutes. Idempotent; run every few minutes (cron)."
    )

    def handle(self, *args, subdomain=None, **options):
        total = 0
        for tenant in self.tenants(subdomain):
            # Queued from inside the tenant's schema, so each task carries its tenant.
            with tenant_context(tenant):
                queued = deliveries_enqueue_due()
            if queued:
                self.stdout.write(f"{tenant.subdomain}: queued {queued} overdue delivery(ies).")
            total += queued
        self.stdout.write(self.style.SUCCESS(f"{total} webhook delivery(ies) queued."))
