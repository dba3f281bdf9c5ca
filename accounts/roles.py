"""
Built-in roles. A role is a ``django.contrib.auth`` group in the tenant's
schema; tenant admins may add custom roles built from the same permissions.
"""

from django.contrib.auth.models import Permission
from django.db import models
from django.utils.translation import gettext_lazy as _


class BuiltinRole(models.TextChoices):
    ADMIN = "Admin", _("Admin")
    MANAGER = "Manager", _("Manager")
    TECHNICIAN = "Technician", _("Technician")
    REQUESTER = "Requester", _("Requester")


# Permissions as "app_label.codename"; "app_label.*" means every permission of the app.
BUILTIN_ROLE_PERMISSIONS = {
    BuiltinRole.ADMIN: ["accounts.*", "auth.*", "assets.*", "requests_app.*"],
    BuiltinRole.MANAGER: ["assets.*", "requests_app.*", "accounts.view_user"],
    BuiltinRole.TECHNICIAN: [
        "assets.view_asset",
        "assets.view_location",
        "requests_app.view_maintenancerequest",
        "requests_app.change_maintenancerequest",
    ],
    BuiltinRole.REQUESTER: [
        "assets.view_asset",
        "assets.view_location",
        "requests_app.view_maintenancerequest",
        "requests_app.add_maintenancerequest",
    ],
}


def role_permissions(specs):
    """The permissions named by specs such as ``assets.view_asset`` or ``assets.*``."""
    query = models.Q(pk__in=[])
    for spec in specs:
        app_label, codename = spec.split(".")
        if codename == "*":
            query |= models.Q(content_type__app_label=app_label)
        else:
            query |= models.Q(content_type__app_label=app_label, codename=codename)
    return Permission.objects.filter(query)
