import getpass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tenants.management.commands.tenant_export import (
    default_export_path,
    export_or_fail,
    tenant_for_subdomain,
)
from tenants.services import SUBDOMAIN_HOLD_PERIOD, tenant_delete


def command_actor() -> str:
    """Who the audit log names: this command, and the OS account running it if known."""
    try:
        return f"command:tenant_delete ({getpass.getuser()})"
    except (KeyError, OSError):
        # getuser() fails in containers whose user has no passwd entry.
        return "command:tenant_delete"


class Command(BaseCommand):
    help = (
        "Export an organisation, then delete it for good: its schema, its rows and its "
        "domains. Its subdomain is held back from new signups for "
        f"{SUBDOMAIN_HOLD_PERIOD.days} days and its schema name is never reused. Asks "
        "you to type the subdomain to confirm; with --no-input, pass --confirm "
        "<subdomain> instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("subdomain", help="The organisation's subdomain, e.g. acme.")
        parser.add_argument(
            "--output",
            type=Path,
            help="Where to write the export (default: .data/exports/<subdomain>-<UTC time>.zip).",
        )
        parser.add_argument(
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not prompt; --confirm must then repeat the subdomain.",
        )
        parser.add_argument(
            "--confirm",
            metavar="SUBDOMAIN",
            help="The subdomain again, confirming the deletion without a prompt.",
        )

    def handle(self, *args, subdomain, output=None, interactive=True, confirm=None, **options):
        tenant = tenant_for_subdomain(subdomain)
        if tenant.is_public:
            raise CommandError("The platform's own tenant cannot be deleted.")
        # Refuse bad confirmation before the export, so a mistyped command
        # writes nothing at all.
        if confirm is not None and confirm != tenant.subdomain:
            raise CommandError(
                f'--confirm "{confirm}" does not match the subdomain "{tenant.subdomain}"; '
                "nothing was exported or deleted."
            )
        if confirm is None and not interactive:
            raise CommandError(
                f"With --no-input, pass --confirm {tenant.subdomain} to delete "
                f"{tenant.name}; nothing was exported or deleted."
            )

        path = export_or_fail(tenant, output or default_export_path(tenant.subdomain))
        self.stdout.write(f"Exported {tenant.name} ({tenant.subdomain}) to {path}")

        if confirm is None:
            self._ask_confirmation(tenant, path)

        try:
            tombstone = tenant_delete(tenant=tenant, actor=command_actor(), export_path=str(path))
        except ValidationError as error:
            raise CommandError(
                f"{'; '.join(error.messages)} Nothing was deleted; the export is kept at {path}."
            ) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Deleted {tombstone.name}: schema {tombstone.schema_name} dropped, rows and "
                f"domains removed. The export is at {path}. The subdomain {tombstone.subdomain} "
                f"is held until {tombstone.subdomain_released:%Y-%m-%d %H:%M} UTC."
            )
        )

    def _ask_confirmation(self, tenant, path):
        self.stdout.write(
            self.style.WARNING(
                f"This deletes {tenant.name}, its schema {tenant.schema_name} and all its "
                "data for good."
            )
        )
        try:
            answer = input(f"Type the subdomain ({tenant.subdomain}) to confirm: ")
        except (EOFError, KeyboardInterrupt):
            answer = None
        if answer is None or answer.strip() != tenant.subdomain:
            raise CommandError(f"Not confirmed; nothing was deleted. The export is kept at {path}.")
