"""
Serializers of the requests API.

Reading: ``RequestSerializer`` documents the representation field by field
(that is what the OpenAPI schema shows) but builds it in one plain function,
``request_representation``: a list page is 50 rows x ~30 fields, and DRF's
field-by-field machinery (a nested serializer per person, asset and
location) costs several times the query. See bench/api.py.

Writing: small input serializers that check shapes and ids; the rules live
in ``requests_app.services``.
"""

from django.utils import timezone
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from accounts.api.serializers import UserSmallSerializer
from accounts.models import User
from assets.models import Asset, Location
from requests_app.models import (
    DETAIL_RELATIONS,
    ElectricalDetails,
    HvacDetails,
    MaintenanceRequest,
    PlumbingDetails,
    Priority,
    RequestComment,
    RequestType,
    Status,
)
from requests_app.services import STAMPS, request_allowed_transitions

# --- Small nested objects ----------------------------------------------------


class AssetSmallSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    asset_tag = serializers.CharField()


class LocationSmallSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


# --- Type-specific details ---------------------------------------------------


class ElectricalDetailsInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ElectricalDetails
        fields = ["voltage", "circuit", "hazard_present"]


class PlumbingDetailsInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlumbingDetails
        fields = ["leak_severity", "water_shutoff_needed", "fixture"]


class HvacDetailsInputSerializer(serializers.ModelSerializer):
    class Meta:
        model = HvacDetails
        fields = ["system_type", "reported_temperature", "refrigerant_involved"]


# In answers every field is there: read-only, hence required in the schema,
# which is also what tells the three shapes of the oneOf apart.
class ElectricalDetailsSerializer(ElectricalDetailsInputSerializer):
    class Meta(ElectricalDetailsInputSerializer.Meta):
        read_only_fields = ElectricalDetailsInputSerializer.Meta.fields


class PlumbingDetailsSerializer(PlumbingDetailsInputSerializer):
    class Meta(PlumbingDetailsInputSerializer.Meta):
        read_only_fields = PlumbingDetailsInputSerializer.Meta.fields


class HvacDetailsSerializer(HvacDetailsInputSerializer):
    class Meta(HvacDetailsInputSerializer.Meta):
        read_only_fields = HvacDetailsInputSerializer.Meta.fields


# What each type's ``details`` look like, for the schema and the representation.
DETAIL_SERIALIZERS = {
    RequestType.ELECTRICAL: ElectricalDetailsInputSerializer,
    RequestType.PLUMBING: PlumbingDetailsInputSerializer,
    RequestType.HVAC: HvacDetailsInputSerializer,
}
# type -> (relation on MaintenanceRequest, serializer), for the representation.
DETAIL_FIELDS = {
    request_type: (DETAIL_RELATIONS[request_type], serializer)
    for request_type, serializer in DETAIL_SERIALIZERS.items()
}


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="RequestDetails",
        serializers=[ElectricalDetailsSerializer, PlumbingDetailsSerializer, HvacDetailsSerializer],
        resource_type_field_name=None,
    )
)
class DetailsField(serializers.JSONField):
    """The details object of the request's type (electrical, plumbing, hvac); null for general."""


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="RequestDetailsInput",
        serializers=[
            ElectricalDetailsInputSerializer,
            PlumbingDetailsInputSerializer,
            HvacDetailsInputSerializer,
        ],
        resource_type_field_name=None,
    )
)
class DetailsInputField(serializers.JSONField):
    """
    The details of the request's type: the fields of that type, each optional.
    Only the shape is checked here; the service checks the fields
    (``services.DetailsRefused``, shown under ``details``).
    """

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if data is not None and not isinstance(data, dict):
            raise serializers.ValidationError("Expected an object.")
        return data


# --- Requests: reading -------------------------------------------------------

# The workflow's stamps, in the workflow's order.
STAMP_FIELDS = tuple(STAMPS.values())


class RequestSerializer(serializers.Serializer):
    """A maintenance request as the list shows it."""

    id = serializers.IntegerField()
    number = serializers.IntegerField(help_text="Numbered per organisation, from 1.")
    reference = serializers.CharField(help_text="The number as people see it: `REQ-000123`.")
    title = serializers.CharField()
    description = serializers.CharField()
    type = serializers.ChoiceField(choices=RequestType.choices)
    priority = serializers.ChoiceField(choices=Priority.choices)
    status = serializers.ChoiceField(choices=Status.choices)
    requester = UserSmallSerializer(allow_null=True, help_text="Null for a public report.")
    reporter_name = serializers.CharField(help_text="Public reports only.")
    reporter_contact = serializers.CharField(help_text="Public reports only.")
    assignee = UserSmallSerializer(allow_null=True)
    asset = AssetSmallSerializer(allow_null=True)
    location = LocationSmallSerializer(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True, help_text="From the SLA of the priority.")
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()
    triaged_at = serializers.DateTimeField(allow_null=True)
    assigned_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    on_hold_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    reopened_at = serializers.DateTimeField(allow_null=True)
    details = DetailsField(allow_null=True)

    def to_representation(self, instance):
        return request_representation(instance, datetime_formatter())

    class Meta:
        # The values the representation reads (selectors.request_rows adds the details).
        columns = [
            "id",
            "number",
            "title",
            "description",
            "type",
            "priority",
            "status",
            "reporter_name",
            "reporter_contact",
            "due_at",
            "created",
            "updated",
            *STAMP_FIELDS,
            "requester_id",
            "requester__email",
            "requester__full_name",
            "assignee_id",
            "assignee__email",
            "assignee__full_name",
            "asset_id",
            "asset__name",
            "asset__asset_tag",
            "location_id",
            "location__name",
        ]


class RequestDetailSerializer(RequestSerializer):
    """One request, with what the caller may do with it next."""

    allowed_transitions = serializers.ListField(
        child=serializers.ChoiceField(choices=Status.choices),
        help_text="The statuses you may move it to now (POST …/transition/).",
    )

    def to_representation(self, row):
        data = super().to_representation(row)
        # The workflow needs only these three facts of the request.
        request = MaintenanceRequest(
            status=row["status"], requester_id=row["requester_id"], assignee_id=row["assignee_id"]
        )
        data["allowed_transitions"] = [
            str(status)
            for status in request_allowed_transitions(request, self.context["request"].user)
        ]
        return data


def datetime_formatter():
    """
    ``format(value)``: a datetime as DRF's DateTimeField writes it (ISO 8601
    in the current time zone, ``Z`` for UTC), without its per-call overhead.
    """
    zone = timezone.get_current_timezone()

    def format(value):
        if value is None:
            return None
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return format


def _person(row, prefix):
    pk = row[f"{prefix}_id"]
    if pk is None:
        return None
    return {"id": pk, "email": row[f"{prefix}__email"], "full_name": row[f"{prefix}__full_name"]}


def request_representation(row: dict, format_datetime) -> dict:
    """
    The JSON of one request (see RequestSerializer for the documented shape)
    from a row of ``api.selectors.request_rows``: plain values, no model instances.
    """
    asset_id, location_id = row["asset_id"], row["location_id"]
    known = DETAIL_FIELDS.get(row["type"])
    data = {
        "id": row["id"],
        "number": row["number"],
        "reference": MaintenanceRequest.format_reference(row["number"]),
        "title": row["title"],
        "description": row["description"],
        "type": row["type"],
        "priority": row["priority"],
        "status": row["status"],
        "requester": _person(row, "requester"),
        "reporter_name": row["reporter_name"],
        "reporter_contact": row["reporter_contact"],
        "assignee": _person(row, "assignee"),
        "asset": None
        if asset_id is None
        else {"id": asset_id, "name": row["asset__name"], "asset_tag": row["asset__asset_tag"]},
        "location": None
        if location_id is None
        else {"id": location_id, "name": row["location__name"]},
        "due_at": format_datetime(row["due_at"]),
        "created": format_datetime(row["created"]),
        "updated": format_datetime(row["updated"]),
    }
    for field in STAMP_FIELDS:
        data[field] = format_datetime(row[field])
    data["details"] = None if known is None else row[f"{known[0]}_details"]
    return data


class RequestListSerializer(serializers.ListSerializer):
    """A page of requests: one time-zone lookup for the page, not per value."""

    def to_representation(self, data):
        format_datetime = datetime_formatter()
        return [request_representation(request, format_datetime) for request in data]


RequestSerializer.Meta.list_serializer_class = RequestListSerializer


# --- Requests: writing -------------------------------------------------------


class RequestWriteSerializer(serializers.Serializer):
    """What a request is filed with; the service numbers it and sets its due date."""

    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    type = serializers.ChoiceField(choices=RequestType.choices, default=RequestType.GENERAL)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.MEDIUM)
    asset = serializers.PrimaryKeyRelatedField(
        queryset=Asset.objects.all(), required=False, allow_null=True, help_text="Asset id."
    )
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(),
        required=False,
        allow_null=True,
        help_text="Location id; by default the asset's.",
    )
    details = DetailsInputField(
        required=False,
        allow_null=True,
        help_text="For electrical, plumbing and HVAC requests: the fields of that type.",
    )


class RequestUpdateSerializer(serializers.Serializer):
    """What may change once filed: leads at any time, the requester while it is new."""

    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    asset = serializers.PrimaryKeyRelatedField(
        queryset=Asset.objects.all(), required=False, allow_null=True
    )
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(), required=False, allow_null=True
    )
    details = DetailsInputField(
        required=False,
        help_text=(
            "For electrical, plumbing and HVAC requests: the fields to change; "
            "the others keep their values."
        ),
    )


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Status.choices, help_text="The status to move to.")
    note = serializers.CharField(required=False, allow_blank=True, default="")
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
        help_text="User id of an active technician; only when moving to `assigned`.",
    )


# --- Comments, history -------------------------------------------


class CommentSerializer(serializers.ModelSerializer):
    author = UserSmallSerializer(read_only=True)

    class Meta:
        model = RequestComment
        fields = ["id", "author", "body", "created"]
        read_only_fields = ["created"]


class HistoryEntrySerializer(serializers.Serializer):
    """One step of the workflow (``transition``) or one changed field (``change``)."""

    kind = serializers.ChoiceField(choices=["transition", "change"])
    at = serializers.DateTimeField()
    by = UserSmallSerializer(allow_null=True, help_text="Null for the system.")
    from_status = serializers.CharField(required=False, help_text="Transitions only.")
    to_status = serializers.CharField(required=False, help_text="Transitions only.")
    note = serializers.CharField(required=False, help_text="Transitions only.")
    field = serializers.CharField(required=False, help_text="Changes only.")
    old_value = serializers.CharField(required=False, help_text="Changes only.")
    new_value = serializers.CharField(required=False, help_text="Changes only.")

    def to_representation(self, entry):
        format_datetime = datetime_formatter()
        by = entry.by
        data = {
            "kind": entry.kind,
            "at": format_datetime(entry.at),
            "by": None
            if by is None
            else {"id": by.pk, "email": by.email, "full_name": by.full_name},
        }
        names = (
            ("from_status", "to_status", "note")
            if entry.kind == "transition"
            else ("field", "old_value", "new_value")
        )
        data.update({name: getattr(entry, name) for name in names})
        return data
