"""The requests list's ordering for the API; the filters are requests_app.filters'."""

from rest_framework.filters import OrderingFilter

from requests_app.filters import ORDERING_FIELDS, RequestFilter, request_order

__all__ = ["RequestFilter", "RequestOrdering"]


class RequestOrdering(OrderingFilter):
    """
    ``?ordering=-priority,due_at``. Priority sorts by urgency (low < medium
    < high < urgent), not alphabetically. Ties are broken by newest first.
    """

    ordering_fields = list(ORDERING_FIELDS)

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        return request_order(queryset, [field for field in ordering if field not in ("pk", "-pk")])
