"""
Request events into webhook deliveries: the ``request_event`` receiver
(connected in WebhooksConfig.ready) writes one delivery per endpoint that
wants the event, with the payload built once, and queues each for sending.
"""

import json
import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from billing import limits
from billing.plans import Feature
from requests_app.events import EventKind
from requests_app.models import MaintenanceRequest
from tenants.selectors import current_tenant
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.tasks import delivery_enqueue


def _email(user):
    return user.email if user else None


def event_payload_build(*, kind, request_id: int, data: dict, event_id, occurred_at) -> dict:
    """The JSON body of a delivery: the event, and the request as it is now."""
    request = (
        MaintenanceRequest.objects.select_related("assignee", "requester", "asset", "location")
        .filter(pk=request_id)
        .first()
    )
    body = None
    if request is not None:
        body = {
            "id": request.pk,
            "number": request.number,
            "title": request.title,
            "type": request.type,
            "status": request.status,
            "priority": request.priority,
            "assignee": _email(request.assignee),
            "requester": _email(request.requester),
            "asset": {"id": request.asset_id, "name": request.asset.name}
            if request.asset
            else None,
            "location": {"id": request.location_id, "name": request.location.name}
            if request.location
            else None,
            "due_at": request.due_at,
            "created": request.created,
        }
    payload = {
        "id": str(event_id),
        "type": str(EventKind(kind).value),
        "occurred_at": occurred_at,
        "tenant": current_tenant().subdomain,
        "request": body,
        "data": data,
    }
    # Through JSON once, so the stored payload is exactly what is sent.
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


def endpoints_for(kind):
    """The active endpoints that want events of ``kind`` (no events listed: all)."""
    return WebhookEndpoint.objects.filter(is_active=True).filter(
        models.Q(events=[]) | models.Q(events__contains=[str(EventKind(kind).value)])
    )


def on_request_event(sender, kind, request_id, data, **kwargs) -> list[WebhookDelivery]:
    """
    ``request_event`` receiver: one delivery per matching active endpoint,
    each sent by its own task. Runs after the change is committed, in the
    tenant's schema, so the task sent from here carries the tenant.
    """
    if connection.schema_name == get_public_schema_name():
        return []
    if not limits.has_feature(current_tenant(), Feature.WEBHOOKS):
        return []  # endpoints outlive a downgrade; they stay silent until an upgrade
    endpoints = list(endpoints_for(kind))
    if not endpoints:
        return []
    payload = event_payload_build(
        kind=kind,
        request_id=request_id,
        data=data or {},
        event_id=uuid.uuid4(),
        occurred_at=timezone.now(),
    )
    with transaction.atomic():
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                endpoint=endpoint,
                event_kind=payload["type"],
                event_id=payload["id"],
                payload=payload,
                next_attempt_at=timezone.now(),
            )
            for endpoint in endpoints
        )
        for delivery in deliveries:
            delivery_enqueue(delivery=delivery)
    return deliveries
