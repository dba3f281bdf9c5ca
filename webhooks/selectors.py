"""Reading webhooks for the web UI and the API: each list in a fixed number of queries."""

from django.db.models import Count, Q, QuerySet

from webhooks.models import WebhookDelivery, WebhookEndpoint

RECENT_DELIVERIES = 50


def endpoints() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.select_related("created_by").order_by("created", "pk")


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    """
    Endpoints with their count of failed deliveries (one query, however many),
    for the page listing them: the count reads every delivery ever logged.
    """
    return endpoints().annotate(
        failed_count=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.FAILED))
    )


def delivery_list(*, endpoint: WebhookEndpoint | None = None) -> QuerySet[WebhookDelivery]:
    """Newest first."""
    deliveries = WebhookDelivery.objects.select_related("endpoint")
    if endpoint is not None:
        deliveries = deliveries.filter(endpoint=endpoint)
    return deliveries.order_by("-created", "pk")
