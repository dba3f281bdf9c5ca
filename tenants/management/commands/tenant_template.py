from django.core.management.base import BaseCommand, CommandError

from tenants.provisioning import TEMPLATE_SCHEMA, spares_fill, template_ensure


class Command(BaseCommand):
    help = (
        "Build the template schema that new tenants are copied from, or rebuild it when "
        "migrations have changed, then fill the pool of spare schemas copied from it. "
        "Run after migrate_schemas on every deploy."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Rebuild even if current.")
        parser.add_argument(
            "--spares",
            type=int,
            help="Spare schemas to keep ready (default: settings.TENANT_SPARE_SCHEMAS).",
        )

    def handle(self, *args, force=False, spares=None, **options):
        if spares is not None and spares < 0:
            raise CommandError("--spares must be 0 or more.")
        if template_ensure(force=force):
            self.stdout.write(self.style.SUCCESS(f"Built template schema {TEMPLATE_SCHEMA}."))
        else:
            self.stdout.write(f"Template schema {TEMPLATE_SCHEMA} is up to date.")
        made = spares_fill(spares)
        self.stdout.write(f"Copied it into {made} new spare schema(s).")
