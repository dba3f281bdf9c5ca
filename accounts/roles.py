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


# The two permissions the request workflow keys on (requests_app.selectors),
# so that custom roles take part in it: a lead sees and steers every request,
# a worker can be assigned requests. The role form shows them first.
MANAGE_ALL_REQUESTS = "requests_app.manage_all_requests"
WORK_ON_REQUESTS = "requests_app.work_on_requests"
WORKFLOW_PERMISSIONS = (MANAGE_ALL_REQUESTS, WORK_ON_REQUESTS)


# Permissions as "app_label.codename"; "app_label.*" means every permission of
# the app, and a leading "-" takes one away again.
# ``requests_app.manage_all_requests`` makes a lead (sees and steers every
# request); ``requests_app.work_on_requests`` makes someone assignable.
# Admins and managers lead but are not assignable, as in the built-in roles
# of the leading CMMS products; a custom role may combine both.
BUILTIN_ROLE_PERMISSIONS = {
    BuiltinRole.ADMIN: [
        "accounts.*",
        "auth.*",
        "attachments.*",
        "assets.*",
        "requests_app.*",
        "-requests_app.work_on_requests",
        "preventive.*",
        "webhooks.*",
        "billing.manage_billing",
        "audit.view_auditentry",
    ],
    BuiltinRole.MANAGER: [
        "attachments.*",
        "assets.*",
        "requests_app.*",
        "-requests_app.work_on_requests",
        "preventive.*",
        "accounts.view_user",
        # Trades were requests_app's before they moved to accounts: a manager
        # keeps the permissions on them that "requests_app.*" gave.
        "accounts.add_techniciantrade",
        "accounts.change_techniciantrade",
        "accounts.delete_techniciantrade",
        "accounts.view_techniciantrade",
    ],
    BuiltinRole.TECHNICIAN: [
        "assets.view_asset",
        "assets.view_location",
        "requests_app.view_maintenancerequest",
        "requests_app.change_maintenancerequest",
        "requests_app.work_on_requests",
    ],
    BuiltinRole.REQUESTER: [
        "assets.view_asset",
        "assets.view_location",
        "requests_app.view_maintenancerequest",
        "requests_app.add_maintenancerequest",
    ],
}


# Requester seats are free, as in the leading CMMS products: only users with
# some other role (or none) count against the plan's max_users.
FREE_SEAT_ROLE = BuiltinRole.REQUESTER.value


def takes_a_seat(role_names) -> bool:
    """Whether a user with these roles counts against ``max_users``."""
    return list(role_names) != [FREE_SEAT_ROLE]


def _spec_query(spec) -> models.Q:
    app_label, codename = spec.split(".")
    if codename == "*":
        return models.Q(content_type__app_label=app_label)
    return models.Q(content_type__app_label=app_label, codename=codename)


def role_permissions(specs):
    """
    The permissions named by specs such as ``assets.view_asset``,
    ``assets.*`` or ``-assets.delete_asset``.
    """
    included = models.Q(pk__in=[])
    excluded = models.Q(pk__in=[])
    for spec in specs:
        if spec.startswith("-"):
            excluded |= _spec_query(spec[1:])
        else:
            included |= _spec_query(spec)
    return Permission.objects.filter(included).exclude(excluded)
