from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tenants.jobs import job_runs_overdue
from tenants.models import DeletedTenant, JobRun, TenantAuditEntry

# The Tenant admin is billing's (billing/admin.py): it shows and changes plans
# and usage, which are billing's to interpret.


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
