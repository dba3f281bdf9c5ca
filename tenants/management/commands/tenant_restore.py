import getpass
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.models import Tenant
from tenants.restore import RestoreError, tenant_restore


def command_actor() -> str:
    """Who the audit log names: this command, and the OS account running it if known."""
    try:
        return f"command:tenant_restore ({getpass.getuser()})"
    except (KeyError, OSError):
        return "command:tenant_restore"


class Command(BaseCommand):
    help = (
        "Load an organisation's export (tenant_export, tenant_delete) into a new tenant, "
        "or into an existing one that holds no data yet, optionally under a new subdomain. "
        "See docs/recovery.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path, help="The export's zip file.")
        parser.add_argument(
            "--subdomain",
            help="Restore under this subdomain instead of the exported one (a new tenant).",
        )
        parser.add_argument(
            "--into",
            metavar="SUBDOMAIN",
            help="Load into this existing tenant, which must hold no data yet.",
        )

    def handle(self, *args, archive, subdomain=None, into=None, **options):
        if subdomain and into:
            raise CommandError(
                "Give --subdomain (a new tenant) or --into (an existing one), not both."
            )
        if not archive.is_file():
            raise CommandError(f"{archive} is not a file.")
        target = None
        if into:
            with schema_context(get_public_schema_name()):
                target = Tenant.objects.filter(subdomain=into.strip().lower()).first()
            if target is None:
                raise CommandError(f'No organisation has the subdomain "{into}".')
        try:
            report = tenant_restore(
                path=archive, subdomain=subdomain, into=target, actor=command_actor()
            )
        except RestoreError as error:
            raise CommandError("; ".join(error.messages)) from error
        tenant = report.tenant
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {tenant.name} at {tenant.get_primary_domain().domain} "
                f"(schema {tenant.schema_name}): {sum(report.rows.values())} rows in "
                f"{len(report.rows)} tables, {report.media_files} files."
            )
        )
        if report.skipped_domains:
            self.stdout.write(
                "Not restored (add them again if they are still wanted): "
                + ", ".join(report.skipped_domains)
            )
        self.stdout.write(
            "Users must set a new password (use password reset); API keys must be issued "
            "again; webhook endpoints have new signing secrets."
        )
