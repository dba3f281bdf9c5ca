from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from billing import limits
from billing.plans import Feature
from webhooks import selectors, services
from webhooks.api import serializers
from webhooks.models import WebhookDelivery


class ManagesWebhooks(permissions.BasePermission):
    """The tenant's admins (services.webhook_may_manage), on a plan with webhooks."""

    message = "Only administrators can manage webhooks."

    def has_permission(self, request, view):
        if not services.webhook_may_manage(request.user):
            return False
        # Raises FeatureNotInPlan: a 403 with code feature_not_in_plan.
        limits.require_feature(request.tenant, Feature.WEBHOOKS)
        return True


PERMISSIONS = [*viewsets.GenericViewSet.permission_classes, ManagesWebhooks]


@extend_schema_view(
    list=extend_schema(summary="List webhook endpoints"),
    retrieve=extend_schema(summary="One webhook endpoint"),
    create=extend_schema(summary="Register a webhook endpoint"),
    update=extend_schema(summary="Change a webhook endpoint"),
    partial_update=extend_schema(summary="Change some fields of a webhook endpoint"),
    destroy=extend_schema(summary="Delete a webhook endpoint and its delivery log"),
)
class EndpointViewSet(viewsets.ModelViewSet):
    """
    The URLs that receive the organisation's request events, signed with each
    endpoint's secret (docs/webhooks.md). For admins on a plan with webhooks.
    """

    serializer_class = serializers.EndpointSerializer
    permission_classes = PERMISSIONS
    filterset_fields = ["is_active"]
    ordering_fields = ["created", "url"]

    def get_queryset(self):
        return selectors.endpoints()

    def perform_create(self, serializer):
        serializer.instance = services.endpoint_create(
            by=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        services.endpoint_update(
            endpoint=serializer.instance, by=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, endpoint):
        services.endpoint_delete(endpoint=endpoint, by=self.request.user)

    @extend_schema(
        summary="Replace the signing secret", request=None, responses=serializers.EndpointSerializer
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="rotate-secret",
        filter_backends=[],
        pagination_class=None,
    )
    def rotate_secret(self, request, pk=None):
        endpoint = services.endpoint_rotate_secret(endpoint=self.get_object(), by=request.user)
        return Response(self.get_serializer(endpoint).data)

    @extend_schema(
        summary="The endpoint's deliveries, newest first",
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=WebhookDelivery.Status.values,
                description="Only deliveries in this status.",
            )
        ],
        responses=serializers.DeliverySerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def deliveries(self, request, pk=None):
        endpoint = self.get_object()
        deliveries = selectors.delivery_list(endpoint=endpoint)
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in WebhookDelivery.Status.values:
                raise ValidationError({"status": [f"Not one of {WebhookDelivery.Status.values}."]})
            deliveries = deliveries.filter(status=wanted)
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(serializers.DeliverySerializer(page, many=True).data)


@extend_schema_view(retrieve=extend_schema(summary="One delivery, with its payload"))
class DeliveryViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Webhook deliveries: what was sent, and the answer to its last attempt."""

    serializer_class = serializers.DeliverySerializer
    permission_classes = PERMISSIONS
    queryset = WebhookDelivery.objects.select_related("endpoint")

    @extend_schema(
        summary="Send a delivery's payload again, as a new delivery",
        request=None,
        responses={202: serializers.DeliverySerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def replay(self, request, pk=None):
        replay = services.delivery_replay(delivery=self.get_object(), by=request.user)
        return Response(
            serializers.DeliverySerializer(replay).data, status=status.HTTP_202_ACCEPTED
        )
