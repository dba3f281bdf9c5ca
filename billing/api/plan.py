"""A tenant's own plan, features and usage, read-only, on its subdomain."""

from django.db import connection
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from billing import limits
from billing.api.subscription import SubscriptionSerializer


class PlanSerializer(serializers.Serializer):
    organisation = serializers.CharField(source="name")
    subdomain = serializers.CharField()
    status = serializers.CharField()
    plan = serializers.CharField()
    plan_name = serializers.CharField(source="get_plan_display")
    trial_ends = serializers.DateTimeField(allow_null=True)
    features = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField()
    api_rate = serializers.SerializerMethodField(help_text='Per API key, e.g. "600/min".')
    subscription = SubscriptionSerializer(read_only=True, allow_null=True)

    def get_features(self, tenant) -> list[str]:
        return limits.features_enabled(tenant)

    @extend_schema_field(
        {
            "type": "object",
            "description": "Per resource (users, assets, requests this month).",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "used": {"type": "integer"},
                    "limit": {
                        "type": "integer",
                        "nullable": True,
                        "description": "null: unlimited",
                    },
                },
                "required": ["used", "limit"],
            },
        }
    )
    def get_usage(self, tenant) -> dict:
        return limits.usage_stats(tenant)

    def get_api_rate(self, tenant) -> str:
        return limits.api_rate(tenant)


class PlanView(APIView):
    """The organisation's plan, the features it unlocks and usage against its limits."""

    serializer_class = PlanSerializer

    def get(self, request):
        return Response(PlanSerializer(connection.tenant).data)
