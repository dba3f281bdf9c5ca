"""Platform admins' view of subscriptions: Stripe ids linked to the dashboard, usage, MRR."""

from django.conf import settings
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from billing import limits, selectors
from billing.limits import Resource
from billing.models import StripeEvent, TenantSubscription


def _stripe_link(kind, stripe_id):
    if not stripe_id:
        return "—"
    return format_html(
        '<a href="{}{}/{}" rel="noopener" target="_blank">{}</a>',
        settings.STRIPE_DASHBOARD_URL,
        kind,
        stripe_id,
        stripe_id,
    )


@admin.register(TenantSubscription)
class TenantSubscriptionAdmin(admin.ModelAdmin):
    """
    Read-only: a subscription follows Stripe (webhooks) or the plan actions of
    the Tenant admin. The list page shows monthly recurring revenue by plan.
    """

    list_display = (
        "tenant", "plan", "status", "billing_cycle", "price", "currency",
        "current_period_end", "cancel_at_period_end", "customer_link",
    )  # fmt: skip
    list_filter = ("status", "plan", "billing_cycle", "cancel_at_period_end")
    search_fields = ("tenant__name", "tenant__subdomain", "stripe_customer_id")
    list_select_related = ("tenant",)
    readonly_fields = [
        *(field.name for field in TenantSubscription._meta.fields),
        "usage",
        "customer_link",
        "subscription_link",
    ]
    exclude = ("stripe_customer_id", "stripe_subscription_id")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Stripe customer"))
    def customer_link(self, subscription):
        return _stripe_link("customers", subscription.stripe_customer_id)

    @admin.display(description=_("Stripe subscription"))
    def subscription_link(self, subscription):
        return _stripe_link("subscriptions", subscription.stripe_subscription_id)

    @admin.display(description=_("usage"))
    def usage(self, subscription):
        tenant = subscription.tenant
        parts = []
        for resource in Resource:
            used, limit = limits.usage(tenant, resource), limits.limit_for(tenant, resource)
            parts.append(f"{resource.label}: {used} / {limit if limit is not None else '∞'}")
        return ", ".join(parts)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "mrr_by_plan": selectors.mrr_by_plan()}
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    """Every Stripe event received, and what it did."""

    list_display = ("event_id", "type", "created", "received", "tenant", "outcome")
    list_filter = ("type",)
    search_fields = ("event_id", "tenant__name")
    list_select_related = ("tenant",)
    readonly_fields = [field.name for field in StripeEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
