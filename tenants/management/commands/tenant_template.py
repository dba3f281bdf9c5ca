from django.core.management.base import BaseCommand

from tenants.provisioning import TEMPLATE_SCHEMA, template_ensure


class Command(BaseCommand):
    help = (
        "Build the template schema that new tenants are copied from, or rebuild it when "
        "migrations have changed. Run after migrate_schemas on every deploy."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Rebuild even if current.")

    def handle(self, *args, force=False, **options):
        if template_ensure(force=force):
            self.stdout.write(self.style.SUCCESS(f"Built template schema {TEMPLATE_SCHEMA}."))
        else:
            self.stdout.write(f"Template schema {TEMPLATE_SCHEMA} is up to date.")
