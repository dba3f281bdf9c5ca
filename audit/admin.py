from django.contrib import admin

from audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The platform's own log (public schema): read-only, like every audit trail."""

    list_display = ("created", "action", "actor_email", "ip_address", "target_repr")
    list_filter = ("action",)
    search_fields = ("actor_email", "target_repr")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
