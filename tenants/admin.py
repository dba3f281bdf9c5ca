from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django_tenants.admin import TenantAdminMixin

from tenants import limits, services
from tenants.jobs import job_runs_overdue
from tenants.limits import Resource
from tenants.models import DeletedTenant, Domain, JobRun, Tenant, TenantAuditEntry
from tenants.plans import PLANS


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class SuspendForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


def _change_plan_action(plan):
    def action(modeladmin, request, queryset):
        modeladmin.apply(request, queryset, services.tenant_change_plan, plan=plan.code)

    action.__name__ = f"change_plan_to_{plan.code.value}"
    action.short_description = _("Change plan to %(plan)s") % {"plan": plan.name}
    return action


@admin.register(Tenant)
class TenantAdmin(TenantAdminMixin, admin.ModelAdmin):
    """
    Platform admins' view of tenants. Every change goes through
    tenants.services, which audits it.
    """

    list_display = (
        "name", "subdomain", "plan", "status", "users_used", "assets_used",
        "requests_used", "trial_ends", "created",
    )  # fmt: skip
    list_filter = ("status", "plan", "onboarded")
    search_fields = ("name", "subdomain", "schema_name", "billing_email", "contact_name")
    readonly_fields = ("schema_name", "subdomain", "created", "updated", "usage")
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


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TenantAuditEntry)
class TenantAuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created", "actor", "action", "tenant_name", "changes")
    list_filter = ("action",)
    search_fields = ("tenant_name", "actor")
    date_hierarchy = "created"


@admin.register(DeletedTenant)
class DeletedTenantAdmin(ReadOnlyAdmin):
    list_display = ("name", "subdomain", "schema_name", "deleted", "subdomain_released")
    search_fields = ("name", "subdomain", "schema_name")


class JobRunStateFilter(admin.SimpleListFilter):
    """Failed runs, and runs overdue: queued or started too long ago to be still on their way."""

    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("failed", _("Failed")), ("overdue", _("Overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "failed":
            return queryset.filter(status=JobRun.Status.FAILED)
        if self.value() == "overdue":
            return job_runs_overdue(queryset)
        return queryset


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    """What the periodic jobs did in each tenant: the platform admin's view of background work."""

    list_display = ("job", "tenant", "slot", "status", "attempts", "queued", "started", "finished")
    list_filter = (JobRunStateFilter, "status", "job")
    search_fields = ("job", "tenant__subdomain", "task_id", "error")
    list_select_related = ("tenant",)
    readonly_fields = [field.name for field in JobRun._meta.fields]
    date_hierarchy = "queued"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
