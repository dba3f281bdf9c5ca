from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_public_schema_name, tenant_context

from assets.maintenance import preventive_requests_generate
from tenants.limits import FeatureNotInPlan
from tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "File the requests of preventive maintenance schedules that are due, missed "
        "dates included. Idempotent: never files one twice; run daily (or hourly)."
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
            if tenant.is_suspended or tenant.is_read_only:
                # Nobody there can act on a request now; the missed dates are
                # caught up by the first run after the organisation is back.
                state = "suspended" if tenant.is_suspended else "read only"
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
