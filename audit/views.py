from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.paginator import Paginator
from django.views.generic import TemplateView

from audit.forms import AuditFilterForm
from audit.selectors import audit_entries

PAGE_SIZE = 50


class AuditLogView(PermissionRequiredMixin, TemplateView):
    """The tenant's audit log for its admins, filtered by actor, action and dates."""

    permission_required = "audit.view_auditentry"
    template_name = "audit/audit_log.html"

    def get_context_data(self, **kwargs):
        form = AuditFilterForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        entries = audit_entries(**{k: v for k, v in filters.items() if v})
        page = Paginator(entries, PAGE_SIZE).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(form=form, page=page, query=query.urlencode(), **kwargs)
