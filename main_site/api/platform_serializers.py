"""Serializers of the platform API (main_site.api.platform)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing import limits
from billing.api.subscription import PlatformSubscriptionSerializer
from billing.plans import Feature, PlanCode
from tenants.models import Tenant
from tenants.validators import validate_feature_overrides

USAGE_SCHEMA = {
    "type": "object",
    "description": "Per resource (users, assets, requests this month): used and limit.",
    "additionalProperties": {
        "type": "object",
        "properties": {
            "used": {"type": "integer"},
            "limit": {"type": "integer", "nullable": True, "description": "null: unlimited"},
        },
        "required": ["used", "limit"],
    },
}


class TenantSerializer(serializers.ModelSerializer):
    """A tenant as listed: no usage, which would take queries in each tenant's schema."""

    plan_name = serializers.CharField(source="get_plan_display", read_only=True)
    features = serializers.SerializerMethodField(
        help_text="Effective features: the plan's, with the overrides applied."
    )
    # Plain text, not format "email": it is empty when none was given, which
    # the schema must allow (found by fuzzing the public API).
    billing_email = serializers.CharField(
        read_only=True, help_text="Where invoices go; empty when none was given."
    )

    class Meta:
        model = Tenant
        fields = [
            "subdomain",
            "name",
            "status",
            "suspension_reason",
            "plan",
            "plan_name",
            "max_users",
            "max_assets",
            "max_requests_per_month",
            "feature_overrides",
            "features",
            "trial_ends",
            "subscription_expires",
            "onboarded",
            "billing_email",
            "contact_name",
            "created",
            "updated",
        ]
        read_only_fields = fields

    def get_features(self, tenant) -> list[str]:
        return limits.features_enabled(tenant)


class TenantDetailSerializer(TenantSerializer):
    """One tenant, with its usage against its limits."""

    usage = serializers.SerializerMethodField()
    subscription = PlatformSubscriptionSerializer(read_only=True, allow_null=True)

    class Meta(TenantSerializer.Meta):
        fields = [*TenantSerializer.Meta.fields, "usage", "subscription"]
        read_only_fields = fields

    @extend_schema_field(USAGE_SCHEMA)
    def get_usage(self, tenant) -> dict:
        return limits.usage_stats(tenant)


class TenantUsageSerializer(serializers.Serializer):
    subdomain = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    plan = serializers.CharField()
    usage = serializers.SerializerMethodField()

    @extend_schema_field(USAGE_SCHEMA)
    def get_usage(self, tenant) -> dict:
        return limits.usage_stats(tenant)


class TenantCreateSerializer(serializers.Serializer):
    """What signup asks for, plus the status to start in."""

    name = serializers.CharField(max_length=200)
    subdomain = serializers.CharField(max_length=63)
    plan = serializers.ChoiceField(choices=PlanCode.choices, default=PlanCode.FREE)
    # All of Tenant.Status, as on the tenant itself, so the schema has one
    # status enum; validate_status narrows it.
    status = serializers.ChoiceField(
        choices=Tenant.Status.choices,
        default=Tenant.Status.TRIAL,
        help_text="`trial` (14 days, as signup) or `active` (e.g. a signed contract).",
    )
    admin_name = serializers.CharField(max_length=150)
    admin_email = serializers.EmailField()
    admin_password = serializers.CharField(write_only=True, trim_whitespace=False)


class TenantUpdateSerializer(serializers.Serializer):
    """Limit and feature overrides. Omitted fields stay as they are."""

    max_users = serializers.IntegerField(min_value=0, allow_null=True, required=False)
    max_assets = serializers.IntegerField(min_value=0, allow_null=True, required=False)
    max_requests_per_month = serializers.IntegerField(min_value=0, allow_null=True, required=False)
    feature_overrides = serializers.DictField(
        child=serializers.BooleanField(),
        required=False,
        help_text='Replaces the whole object, e.g. {"api_access": true}; {} clears it. '
        f"Keys: {', '.join(Feature.values)}.",
    )

    def validate_feature_overrides(self, value):
        # The model's own rule, checked here too so that one answer lists
        # every field at fault (the service would stop at the first).
        try:
            validate_feature_overrides(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error
        return value


class SuspendSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Shown in the audit log and admin.")


class ChangePlanSerializer(serializers.Serializer):
    plan = serializers.ChoiceField(choices=PlanCode.choices)
