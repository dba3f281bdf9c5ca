"""A tenant's subscription as the APIs show it: the plan API and the platform API."""

from rest_framework import serializers

from billing.models import TenantSubscription


class SubscriptionSerializer(serializers.ModelSerializer):
    is_active = serializers.BooleanField(read_only=True)
    is_in_trial = serializers.SerializerMethodField()
    days_until_renewal = serializers.SerializerMethodField()

    class Meta:
        model = TenantSubscription
        fields = [
            "plan",
            "status",
            "billing_cycle",
            "price",
            "currency",
            "current_period_start",
            "current_period_end",
            "trial_start",
            "trial_end",
            "cancel_at",
            "cancelled_at",
            "cancel_at_period_end",
            "is_active",
            "is_in_trial",
            "days_until_renewal",
        ]
        read_only_fields = fields

    def get_is_in_trial(self, subscription) -> bool:
        return subscription.is_in_trial()

    def get_days_until_renewal(self, subscription) -> int | None:
        return subscription.days_until_renewal()


class PlatformSubscriptionSerializer(SubscriptionSerializer):
    """For platform admins: with the Stripe ids."""

    class Meta(SubscriptionSerializer.Meta):
        fields = [
            *SubscriptionSerializer.Meta.fields,
            "stripe_customer_id",
            "stripe_subscription_id",
        ]
        read_only_fields = fields
