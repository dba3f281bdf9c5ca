from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_public_schema_name, tenant_context

from requests_app.notifications import requests_notify_sla_breaches
from tenants.models import Tenant


class Command(BaseCommand):
    help = (
        "E-mail the assignee and the admins and managers about open requests past "
        "their due date. Idempotent (each breach is notified once); run every few minutes."
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
                notified = requests_notify_sla_breaches()
            if notified:
                self.stdout.write(f"{tenant.subdomain}: {notified} overdue request(s) notified.")
            total += notified
        self.stdout.write(self.style.SUCCESS(f"{total} overdue request(s) notified."))
