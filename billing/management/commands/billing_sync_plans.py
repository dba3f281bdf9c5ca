from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing.catalogue_sync import plans_sync


class Command(BaseCommand):
    help = "Create or update the Stripe product and prices of each paid plan (idempotent)."

    def handle(self, *args, **options):
        try:
            report = plans_sync()
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        for line in report:
            self.stdout.write(line)
