from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django_tenants.admin import TenantAdminMixin

from billing import limits, selectors
from billing.charts import usage_chart
from billing.limits import Resource
from billing.models import UsageSnapshot
from billing.plans import PLANS
from billing.services import tenant_change_plan
from billing.subscription_admin import StripeEventAdmin, TenantSubscriptionAdmin
from tenants import services
from tenants.models import Domain, Tenant


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class SuspendForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


def _change_plan_action(plan):
    def action(modeladmin, request, queryset):
        modeladmin.apply(request, queryset, tenant_change_plan, plan=plan.code)

    action.__name__ = f"change_plan_to_{plan.code.value}"
    action.short_description = _("Change plan to %(plan)s") % {"plan": plan.name}
    return action


@admin.register(Tenant)
class TenantAdmin(TenantAdminMixin, admin.ModelAdmin):
    """
    Platform admins' view of tenants: their state, plan, limits and usage.
    Here, not in tenants, because plans and usage are billing's to read.
    Every change goes through tenants.services or billing.services, which
    audit it.
    """

    list_display = (
        "name", "subdomain", "plan", "status", "users_used", "assets_used",
        "requests_used", "trial_ends", "created",
    )  # fmt: skip
    list_filter = ("status", "plan", "onboarded")
    search_fields = ("name", "subdomain", "schema_name", "billing_email", "contact_name")
    # The plan changes only through the actions (billing.services.tenant_change_plan),
    # so the subscription, the limits and the audit log follow it; a plain edit would not.
    readonly_fields = (
        "schema_name",
        "subdomain",
        "plan",
        "created",
        "updated",
        "usage",
        "usage_history",
    )
    inlines = [DomainInline]
    actions = [
        "suspend",
        "reactivate",
        "extend_trial",
        *[_change_plan_action(plan) for plan in PLANS.values()],
    ]
    fieldsets = (
        (None, {"fields": ("name", "subdomain", "schema_name", "status", "suspension_reason")}),
        (
            _("Plan and limits"),
            {
                "fields": (
                    "plan",
                    "usage",
                    "usage_history",
                    "max_users",
                    "max_assets",
                    "max_requests_per_month",
                    "feature_overrides",
                    "trial_ends",
                    "subscription_expires",
                )
            },
        ),
        (_("Branding"), {"fields": ("logo", "primary_color", "secondary_color")}),
        (
            _("Contact"),
            {"fields": ("billing_email", "contact_name", "contact_phone", "timezone")},
        ),
        (_("Other"), {"fields": ("settings", "onboarded", "created", "updated")}),
    )

    def has_add_permission(self, request):
        # A tenant needs its schema, domain and first admin: see signup or tenant_create.
        return False

    def has_delete_permission(self, request, obj=None):
        # Deletion exports first and holds the subdomain: manage.py tenant_delete.
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(subdomain=None)

    @staticmethod
    def _usage(tenant, resource):
        used, limit = limits.usage(tenant, resource), limits.limit_for(tenant, resource)
        return f"{used} / {limit if limit is not None else '∞'}"

    @admin.display(description=_("users"))
    def users_used(self, tenant):
        return self._usage(tenant, Resource.USERS)

    @admin.display(description=_("assets"))
    def assets_used(self, tenant):
        return self._usage(tenant, Resource.ASSETS)

    @admin.display(description=_("requests this month"))
    def requests_used(self, tenant):
        return self._usage(tenant, Resource.REQUESTS)

    @admin.display(description=_("usage, last 90 days"))
    def usage_history(self, tenant):
        return usage_chart(selectors.usage_history(tenant=tenant, days=90))

    @admin.display(description=_("usage"))
    def usage(self, tenant):
        return ", ".join(
            f"{resource.label}: {self._usage(tenant, resource)}" for resource in Resource
        )

    def save_model(self, request, obj, form, change):
        values = {field: form.cleaned_data[field] for field in form.changed_data}
        fresh = Tenant.objects.get(pk=obj.pk)
        services.tenant_update(tenant=fresh, actor=request.user.email, **values)

    def apply(self, request, queryset, service, **kwargs):
        done = 0
        for tenant in queryset:
            try:
                service(tenant=tenant, actor=request.user.email, **kwargs)
                done += 1
            except ValidationError as error:
                self.message_user(request, f"{tenant}: {' '.join(error.messages)}", messages.ERROR)
        if done:
            self.message_user(request, _("%(count)d tenant(s) updated.") % {"count": done})

    @admin.action(description=_("Suspend (asks for a reason)"))
    def suspend(self, request, queryset):
        form = SuspendForm(request.POST if "reason" in request.POST else None)
        if form.is_valid():
            self.apply(
                request, queryset, services.tenant_suspend, reason=form.cleaned_data["reason"]
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Suspend tenants"),
            "form": form,
            "tenants": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/tenants/suspend.html", context)

    @admin.action(description=_("Reactivate"))
    def reactivate(self, request, queryset):
        self.apply(request, queryset, services.tenant_reactivate)

    @admin.action(description=_("Extend trial by 14 days"))
    def extend_trial(self, request, queryset):
        self.apply(request, queryset, services.tenant_extend_trial, days=14)


@admin.register(UsageSnapshot)
class UsageSnapshotAdmin(admin.ModelAdmin):
    """Each tenant's usage day by day (a daily job takes it): growth against the plan."""

    list_display = (
        "tenant",
        "day",
        "plan",
        "users",
        "assets",
        "requests_this_month",
        "storage_bytes",
    )
    list_filter = ("plan",)
    search_fields = ("tenant__name", "tenant__subdomain")
    list_select_related = ("tenant",)
    date_hierarchy = "day"
    readonly_fields = [field.name for field in UsageSnapshot._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# Registered in billing.subscription_admin, imported for admin autodiscovery.
__all__ = ["StripeEventAdmin", "TenantSubscriptionAdmin"]
