from django_tenants.utils import tenant_context

from billing.limits import FeatureNotInPlan
from preventive.services import generation_paused, preventive_requests_generate
from tenants.management.base import PerTenantCommand


class Command(PerTenantCommand):
    help = (
        "File the requests of preventive maintenance schedules that are due, missed "
        "dates included. Idempotent: never files one twice; run daily (or hourly)."
    )

    def handle(self, *args, subdomain=None, **options):
        total = 0
        for tenant in self.tenants(subdomain):
            if state := generation_paused(tenant):
                self.stdout.write(f"{tenant.subdomain}: skipped, the organisation is {state}.")
                continue
            with tenant_context(tenant):
                try:
                    report = preventive_requests_generate()
                except FeatureNotInPlan as refusal:
                    # Said, not silent: someone expecting requests should learn why.
                    self.stdout.write(f"{tenant.subdomain}: skipped. {refusal.messages[0]}")
                    continue
                for occurrence in report.created:
                    self.stdout.write(
                        f"{tenant.subdomain}: {occurrence.request.reference} "
                        f"{occurrence.schedule.title!r} due {occurrence.due_on.isoformat()}"
                    )
                for schedule, message in report.stopped:
                    self.stderr.write(
                        f"{tenant.subdomain}: schedule {schedule.title!r} "
                        f"[#{schedule.pk}] stopped: {message}"
                    )
            total += len(report.created)
        self.stdout.write(self.style.SUCCESS(f"{total} preventive request(s) created."))
