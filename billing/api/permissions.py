from django.db import connection
from django_tenants.utils import get_public_schema_name
from rest_framework import permissions

from billing import limits
from billing.plans import Feature


class TenantHasAPIAccess(permissions.BasePermission):
    """The tenant's plan (or an override) includes ``api_access``; 403 ``feature_not_in_plan``."""

    def has_permission(self, request, view):
        if connection.schema_name == get_public_schema_name():
            return True  # the platform API has no plan; its views check staff status
        limits.require_feature(connection.tenant, Feature.API_ACCESS)
        return True
