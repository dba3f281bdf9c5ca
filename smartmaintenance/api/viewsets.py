"""
The viewset the apps' APIs build on: reads from the queryset, writes through
the app's services with the input checked by a serializer first.
"""

from rest_framework import mixins, viewsets

from smartmaintenance.api.permissions import ActionPermission


class ReadCreateUpdateViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """List and retrieve; ``create`` and ``partial_update`` (no PUT) call the services."""

    permission_classes = [*viewsets.GenericViewSet.permission_classes, ActionPermission]
    action_permissions: dict[str, list[str]] = {}

    def filter_queryset(self, queryset):
        # The list's filters only: a filter that hides rows by default
        # (retired assets) must not make a detail URL a 404.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def validated_input(self, serializer_class, instance=None) -> dict:
        """
        The request's data, checked by ``serializer_class``; partly, as a
        PATCH, when it changes ``instance``. A 400 with the errors otherwise.
        """
        serializer = serializer_class(
            instance, data=self.request.data, partial=instance is not None
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def paginated_response(self, rows, serializer_class, **kwargs):
        """One page of ``rows`` in ``serializer_class``, for an extra list action."""
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(serializer_class(page, many=True, **kwargs).data)
