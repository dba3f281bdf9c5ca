from rest_framework import serializers

from requests_app.events import EventKind
from webhooks.models import WebhookDelivery, WebhookEndpoint


class EndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventKind.choices),
        required=False,
        help_text="The event kinds to receive; empty for all, kinds added later included.",
    )
    secret = serializers.CharField(
        read_only=True,
        help_text="Signs every delivery (X-SmartMaintenance-Signature); rotate it with "
        "POST …/rotate-secret/.",
    )
    created_by = serializers.SlugRelatedField(slug_field="email", read_only=True)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "is_active",
            "secret",
            "created_by",
            "created",
        ]
        read_only_fields = ["created"]
        extra_kwargs = {"url": {"help_text": "https:// and reachable from the internet."}}


class DeliverySerializer(serializers.ModelSerializer):
    # Plain strings in the schema: the same choice set as ``events`` above
    # under a second name would make two OpenAPI enums of one list.
    event_kind = serializers.CharField(
        read_only=True, help_text="The event's kind, one of those listed for `events`."
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event_kind",
            "event_id",
            "replay_of",
            "status",
            "attempts",
            "next_attempt_at",
            "last_response_code",
            "last_response_body",
            "last_error",
            "created",
            "delivered_at",
            "payload",
        ]
        read_only_fields = fields
