from django.core.management.base import BaseCommand

from tenants.services import tenants_suspend_expired_trials


class Command(BaseCommand):
    help = "Suspend tenants whose trial and grace period have ended. Idempotent; run daily."

    def handle(self, *args, **options):
        suspended = tenants_suspend_expired_trials()
        for tenant in suspended:
            self.stdout.write(f"Suspended {tenant.subdomain}: trial ended.")
        self.stdout.write(self.style.SUCCESS(f"{len(suspended)} tenant(s) suspended."))
