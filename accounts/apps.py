from django.apps import AppConfig, apps
from django.db import connection
from django.db.models.signals import post_migrate


def builtin_roles_update(**kwargs):
    """
    Bring the built-in roles of a tenant schema up to date after its
    migrations, so a permission a release adds (or moves between roles)
    reaches every existing tenant with ``migrate_schemas``.
    """
    from django_tenants.utils import get_public_schema_name

    from accounts.services import roles_provision_defaults

    if connection.schema_name != get_public_schema_name():
        roles_provision_defaults()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        # Sent once the last tenant app is migrated, after auth has created its
        # permissions (auth's receiver was connected first).
        post_migrate.connect(
            builtin_roles_update,
            sender=apps.get_app_config("requests_app"),
            dispatch_uid="accounts.builtin_roles_update",
        )
