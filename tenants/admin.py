from django.contrib import admin
from django_tenants.admin import TenantAdminMixin

from tenants.models import Domain, Tenant


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Tenant)
class TenantAdmin(TenantAdminMixin, admin.ModelAdmin):
    list_display = ("name", "subdomain", "status", "created")
    list_filter = ("status",)
    search_fields = ("name", "subdomain", "schema_name")
    readonly_fields = ("schema_name", "created", "updated")
    inlines = [DomainInline]
