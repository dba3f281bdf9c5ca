from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.exports import tenant_export
from tenants.models import DeletedTenant, Tenant


def default_export_path(subdomain: str) -> Path:
    """``.data/exports/<subdomain>-<UTC time>.zip`` under the project directory."""
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    return Path(settings.BASE_DIR) / ".data" / "exports" / f"{subdomain}-{stamp}.zip"


def tenant_for_subdomain(subdomain: str) -> Tenant:
    """The tenant at ``subdomain``, or a CommandError that says why there is none."""
    subdomain = subdomain.strip().lower()
    if subdomain in (get_public_schema_name(), settings.BASE_DOMAIN):
        raise CommandError(
            f'"{subdomain}" is the platform\'s own tenant, not an organisation; it cannot be '
            "exported or deleted."
        )
    with schema_context(get_public_schema_name()):
        tenant = Tenant.objects.filter(subdomain=subdomain).first()
        if tenant is not None:
            return tenant
        deleted = DeletedTenant.objects.filter(subdomain=subdomain).first()
    if deleted is not None:
        where = f" Its export is at {deleted.export_path}." if deleted.export_path else ""
        raise CommandError(
            f'The organisation "{subdomain}" was deleted on {deleted.deleted:%Y-%m-%d}.{where}'
        )
    raise CommandError(f'No organisation has the subdomain "{subdomain}".')


def export_or_fail(tenant: Tenant, path: Path) -> Path:
    """Run the export, turning anything that stops it into a CommandError."""
    try:
        return tenant_export(tenant=tenant, path=path)
    except FileExistsError as error:
        raise CommandError(f"{path} already exists; choose another --output.") from error
    except ValidationError as error:
        raise CommandError("; ".join(error.messages)) from error
    except OSError as error:
        raise CommandError(f"Could not write the export to {path}: {error}") from error


class Command(BaseCommand):
    help = (
        "Write everything an organisation owns (users without passwords, roles, assets, "
        "requests, uploaded files, its settings) to a zip of JSON and CSV files. "
        "See docs/lifecycle-export.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("subdomain", help="The organisation's subdomain, e.g. acme.")
        parser.add_argument(
            "--output",
            type=Path,
            help="Where to write the zip (default: .data/exports/<subdomain>-<UTC time>.zip). "
            "An existing file is never overwritten.",
        )

    def handle(self, *args, subdomain, output=None, **options):
        tenant = tenant_for_subdomain(subdomain)
        path = export_or_fail(tenant, output or default_export_path(tenant.subdomain))
        self.stdout.write(
            self.style.SUCCESS(f"Exported {tenant.name} ({tenant.subdomain}) to {path}")
        )
