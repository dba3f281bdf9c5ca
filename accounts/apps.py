from django.apps import AppConfig, apps
from django.conf import settings
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
        # Imported here, not at the top: models load only once apps are ready.
        from accounts.managers import UserManager
        from accounts.services import user_create

        UserManager.create_with = staticmethod(user_create)
        # post_migrate is sent per app, in INSTALLED_APPS order, and auth
        # creates each app's permissions on it (its receiver was connected
        # first). Listening for the last tenant app means every permission a
        # built-in role names exists by then.
        last_tenant_app = [
            config for config in apps.get_app_configs() if config.name in settings.TENANT_APPS
        ][-1]
        post_migrate.connect(
            builtin_roles_update,
            sender=last_tenant_app,
            dispatch_uid="accounts.builtin_roles_update",
        )
