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
        from accounts.selectors import seats_taken_count
        from billing.limits import Resource, usage_counter_register

        usage_counter_register(Resource.USERS, seats_taken_count)

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
