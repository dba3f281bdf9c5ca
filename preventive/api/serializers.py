"""
Serializers of the preventive-maintenance API. Input and output are separate
classes, as in the assets API: input ones validate the shape of a call, the
services decide; output ones render rows the views have already joined.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from assets.models import Asset
from preventive.models import ChecklistItem, MaintenanceSchedule, ScheduledOccurrence
from preventive.selectors import schedule_next_due
from preventive.services import SCHEDULE_FIELDS


class ScheduleSerializer(serializers.ModelSerializer):
    asset = inline_serializer(
        "ScheduleAsset",
        {
            "id": serializers.IntegerField(),
            "name": serializers.CharField(),
            "asset_tag": serializers.CharField(),
        },
        read_only=True,
    )
    steps = serializers.SerializerMethodField(help_text="The checklist, in order.")
    next_due = serializers.SerializerMethodField(
        help_text="The next due date not generated yet (within a year), or null."
    )

    class Meta:
        model = MaintenanceSchedule
        fields = [
            "id",
            "asset",
            *SCHEDULE_FIELDS,
            "steps",
            "next_due",
            "last_generated_on",
            "created",
            "updated",
        ]

    def get_steps(self, schedule) -> list[str]:
        # .all() reads the prefetch the view made.
        return [step.text for step in schedule.steps.all()]

    @extend_schema_field(OpenApiTypes.DATE)
    def get_next_due(self, schedule):
        return schedule_next_due(schedule, today=self.context.get("today"))


class ScheduleInputSerializer(serializers.ModelSerializer):
    asset = serializers.PrimaryKeyRelatedField(queryset=Asset.objects.all())
    steps = serializers.ListField(
        child=serializers.CharField(max_length=500, allow_blank=True),
        required=False,
        help_text="The checklist texts, in order (blank ones are dropped); "
        "on update, replaces the whole checklist.",
    )

    class Meta:
        model = MaintenanceSchedule
        fields = ["asset", *SCHEDULE_FIELDS, "steps"]


class ScheduleUpdateSerializer(ScheduleInputSerializer):
    """As for create, but a schedule stays with its asset."""

    class Meta(ScheduleInputSerializer.Meta):
        fields = [field for field in ScheduleInputSerializer.Meta.fields if field != "asset"]

    def to_internal_value(self, data):
        if hasattr(data, "keys") and "asset" in data:
            raise serializers.ValidationError(
                {"asset": ["A schedule cannot move to another asset; make a new one."]}
            )
        return super().to_internal_value(data)


class ChecklistItemSerializer(serializers.ModelSerializer):
    completed = serializers.BooleanField(source="is_completed", read_only=True)

    class Meta:
        model = ChecklistItem
        fields = ["id", "order", "text", "completed", "completed_by", "completed_at"]


class OccurrenceSerializer(serializers.ModelSerializer):
    request_status = serializers.CharField(source="request.status", read_only=True)
    checklist = ChecklistItemSerializer(many=True, read_only=True)

    class Meta:
        model = ScheduledOccurrence
        fields = ["id", "due_on", "request", "request_status", "checklist", "created"]
