from django.contrib import admin

from tenants.models import DeletedTenant, TenantAuditEntry

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
