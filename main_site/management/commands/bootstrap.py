import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.services import user_create
from billing.services import public_tenant_ensure


class Command(BaseCommand):
    help = (
        "Create the platform's public tenant, its main domain and a platform superuser. "
        "Idempotent. The superuser comes from PLATFORM_ADMIN_EMAIL and "
        "PLATFORM_ADMIN_PASSWORD, or from prompts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-input", action="store_false", dest="interactive")

    def handle(self, *args, interactive=True, **options):
        tenant = public_tenant_ensure()
        self.stdout.write(f"Public tenant: {tenant.name} ({tenant.get_primary_domain()})")

        email = os.environ.get("PLATFORM_ADMIN_EMAIL") or self._ask(interactive, "E-mail: ")
        password = os.environ.get("PLATFORM_ADMIN_PASSWORD")
        with schema_context(tenant.schema_name), transaction.atomic():
            if User.objects.filter(email__iexact=email).exists():
                self.stdout.write(f"Platform superuser {email} already exists.")
                return
            password = password or self._ask(interactive, "Password: ", secret=True)
            try:
                user_create(
                    email=email,
                    password=password,
                    full_name="Platform admin",
                    is_staff=True,
                    is_superuser=True,
                )
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(self.style.SUCCESS(f"Created platform superuser {email}."))

    @staticmethod
    def _ask(interactive, prompt, secret=False):
        if not interactive:
            raise CommandError(
                "Set PLATFORM_ADMIN_EMAIL and PLATFORM_ADMIN_PASSWORD, or run interactively."
            )
        value = getpass.getpass(prompt) if secret else input(prompt)
        if not value:
            raise CommandError(f"{prompt.strip(': ')} is required.")
        return value
