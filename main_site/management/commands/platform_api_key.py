from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.api_keys import MANAGE_PERMISSION, api_key_create
from accounts.models import APIKey, User


class Command(BaseCommand):
    help = (
        "Make an API key for the platform API (/api/v1/platform/ on the main domain), "
        "acting as a platform admin. The key is printed once and never shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help="A staff user of the public schema.")
        parser.add_argument("--name", required=True, help="What the key is for, e.g. ci.")
        parser.add_argument("--read-only", action="store_true", help="The key may only GET (read).")

    def handle(self, *args, email, name, read_only, **options):
        # Platform admins and their keys live in the public schema; a key made
        # anywhere else would not be found by the platform API.
        with schema_context(get_public_schema_name()):
            user = User.objects.filter(email__iexact=email.strip()).first()
            if user is None:
                raise CommandError(f"No platform user has the e-mail {email!r}.")
            if not (user.is_active and user.is_staff):
                raise CommandError(
                    f"{user.email} is not an active staff user: only platform admins "
                    "(is_staff) may use the platform API."
                )
            access = APIKey.Access.READ_ONLY if read_only else APIKey.Access.READ_WRITE
            try:
                # The key is made by, and acts as, the admin themself.
                _key, raw_key = api_key_create(by=user, name=name, access=access)
            except PermissionDenied as error:
                raise CommandError(
                    f"{user.email} may not hold API keys: make them a superuser or give "
                    f"them the {MANAGE_PERMISSION} permission."
                ) from error
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
        self.stderr.write(
            f"API key {name!r} ({access}) for {user.email}. It is shown only now; keep it safe:"
        )
        self.stdout.write(raw_key)
