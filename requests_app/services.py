"""Writes for maintenance requests."""

from django.db import transaction

from requests_app.models import MaintenanceRequest
from tenants import limits
from tenants.selectors import current_tenant


@transaction.atomic
def request_create(*, title: str, description: str = "", **fields) -> MaintenanceRequest:
    request = MaintenanceRequest(title=title, description=description, **fields)
    request.full_clean()
    limits.reserve(current_tenant(), limits.Resource.REQUESTS)
    request.save()
    return request
