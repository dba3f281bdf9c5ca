"""Reading webhooks for the web UI and the API: each list in a fixed number of queries."""

from django.db.models import Count, Q, QuerySet

from webhooks.models import WebhookDelivery, WebhookEndpoint

RECENT_DELIVERIES = 50


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    """Endpoints with their count of failed deliveries (one query, however many)."""
    return (
        WebhookEndpoint.objects.select_related("created_by")
        .annotate(
            failed_count=Count(
                "deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.FAILED)
            )
        )
        .order_by("created", "pk")
    )


def delivery_list(*, endpoint: WebhookEndpoint | None = None) -> QuerySet[WebhookDelivery]:
    """Newest first."""
    deliveries = WebhookDelivery.objects.select_related("endpoint")
    if endpoint is not None:
        deliveries = deliveries.filter(endpoint=endpoint)
    return deliveries.order_by("-created", "pk")
