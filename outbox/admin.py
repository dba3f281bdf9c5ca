from django.contrib import admin

from outbox.models import OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """The platform's own mail (public schema): what was sent, what waits, what failed."""

    list_display = ["subject", "status", "attempts", "created", "sent"]
    list_filter = ["status"]
    search_fields = ["subject", "to"]
    readonly_fields = [field.name for field in OutboundEmail._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
