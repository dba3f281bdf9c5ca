from django_filters import rest_framework as filters
from rest_framework import viewsets

from audit.api.serializers import AuditEntrySerializer
from audit.models import Action, AuditEntry
from audit.selectors import audit_entries
from smartmaintenance.api.permissions import HasModelPermission


class AuditEntryFilter(filters.FilterSet):
    actor = filters.CharFilter(field_name="actor_email", lookup_expr="icontains")
    action = filters.ChoiceFilter(choices=Action.choices)
    since = filters.DateFilter(field_name="created", lookup_expr="date__gte")
    until = filters.DateFilter(field_name="created", lookup_expr="date__lte")

    class Meta:
        model = AuditEntry
        fields = ["actor", "action", "since", "until"]


class AuditEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """
    The organisation's audit log, newest first, for its admins
    (``audit.view_auditentry``): logins, changes to users, roles, API keys,
    webhooks and settings, exports. Kept for the plan's retention period.
    """

    serializer_class = AuditEntrySerializer
    permission_classes = [*viewsets.ReadOnlyModelViewSet.permission_classes, HasModelPermission]
    filterset_class = AuditEntryFilter
    ordering_fields = ["created"]
    search_fields = ["actor_email", "target_repr"]

    def get_queryset(self):
        return audit_entries()
