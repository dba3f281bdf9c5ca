"""
The preventive-maintenance REST endpoints: schedules, their occurrences and
checklists. Thin: input is validated by a serializer, reads come from
``preventive.selectors`` and writes go through ``preventive.services``.
"""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from assets.api.views import ActionPermission, ReadCreateUpdateViewSet
from billing import limits
from billing.plans import Feature
from preventive import selectors, services
from preventive.api import filters, serializers
from preventive.models import ChecklistItem, MaintenanceSchedule
from tenants.selectors import current_tenant


class PreventiveMaintenanceInPlan(BasePermission):
    """
    Schedules are a plan feature: 403 ``feature_not_in_plan`` without it,
    reads included. The work already generated is not gated (as in
    ``preventive.services``): its occurrences can still be read and their
    checklists completed after a downgrade.
    """

    ungated = {"occurrences", "checklist_item_complete"}

    def has_permission(self, request, view):
        if getattr(view, "action", None) not in self.ungated:
            limits.require_feature(current_tenant(), Feature.PREVENTIVE_MAINTENANCE)
        return True


class ScheduleViewSet(ReadCreateUpdateViewSet):
    """
    Preventive-maintenance schedules: recurring work on an asset, and the
    template (title, description, type, priority, checklist ``steps``) of the
    request filed on each due date. Needs the plan feature
    ``preventive_maintenance`` (403 ``feature_not_in_plan``). Schedules are
    deactivated (``active``: false), not deleted.
    """

    queryset = MaintenanceSchedule.objects.all()
    serializer_class = serializers.ScheduleSerializer
    filterset_class = filters.ScheduleAPIFilter
    search_fields = ["title"]
    ordering_fields = ["title", "starts_on", "created"]
    permission_classes = [
        *viewsets.GenericViewSet.permission_classes,
        PreventiveMaintenanceInPlan,
        ActionPermission,
    ]
    action_permissions = {
        "occurrences": ["preventive.view_maintenanceschedule"],
        # Whoever may see the generated request (its technician, a lead)
        # may tick its checklist; checklist_item_complete decides, per item.
        "checklist_item_complete": [],
    }

    def get_queryset(self):
        schedules = selectors.schedule_list(include_inactive=True)
        if self.action in ("list", "retrieve"):
            schedules = schedules.prefetch_related("steps")
        return schedules

    def get_serializer_context(self):
        # One "today" for the whole page, in the tenant's time zone.
        return {**super().get_serializer_context(), "today": selectors.tenant_today()}

    def _schedule_body(self, schedule: MaintenanceSchedule) -> dict:
        schedule = self.get_queryset().prefetch_related("steps").get(pk=schedule.pk)
        return serializers.ScheduleSerializer(schedule, context=self.get_serializer_context()).data

    @extend_schema(
        request=serializers.ScheduleInputSerializer,
        responses={201: serializers.ScheduleSerializer},
    )
    def create(self, request):
        serializer = serializers.ScheduleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        schedule = services.schedule_create(**serializer.validated_data)
        return Response(self._schedule_body(schedule), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.ScheduleUpdateSerializer, responses=serializers.ScheduleSerializer
    )
    def partial_update(self, request, pk=None):
        schedule = self.get_object()
        serializer = serializers.ScheduleUpdateSerializer(schedule, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        steps = data.pop("steps", None)
        schedule = services.schedule_update(schedule=schedule, data=data, steps=steps)
        return Response(self._schedule_body(schedule))

    @extend_schema(responses=serializers.OccurrenceSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def occurrences(self, request, pk=None):
        """The due dates generated so far, with their request and checklist."""
        occurrences = selectors.occurrence_list(schedule=self.get_object())
        page = self.paginate_queryset(occurrences)
        return self.get_paginated_response(serializers.OccurrenceSerializer(page, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "item_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The item's id."
            )
        ],
        request=None,
        responses=serializers.ChecklistItemSerializer,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"checklist-items/(?P<item_pk>[0-9]+)/complete",
        url_name="checklist-item-complete",
        filter_backends=[],
    )
    def checklist_item_complete(self, request, pk=None, item_pk=None):
        """
        Tick a checklist item of one of the schedule's occurrences, for
        whoever may see its request. Idempotent: the first completion is kept.
        """
        schedule = self.get_object()  # a 404 for any id that is not one, e.g. "null"
        try:
            item = selectors.checklist_item_get(schedule=schedule, pk=item_pk)
            item = services.checklist_item_complete(item=item, user=request.user)
        except ChecklistItem.DoesNotExist:
            raise Http404 from None
        return Response(serializers.ChecklistItemSerializer(item).data)
