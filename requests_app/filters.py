"""
Filtering, search and ordering of request lists: one definition for the API
(``GET /api/v1/requests/``, requests_app.api.filters) and the web list page.
"""

import datetime
import re

import django_filters
from django import forms
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from assets.models import Location
from requests_app.models import (
    MaintenanceRequest,
    Priority,
    RequestType,
    Status,
    overdue_condition,
)

# "123", "REQ-123", "req-000123", "#123": a request number.
NUMBER = re.compile(r"^(?:req-|#)?0*(\d{1,9})$", re.IGNORECASE)


class UtcIsoDateTimeField(IsoDateTimeField):
    """
    An ISO 8601 date and time, handed to the database in UTC: Python takes
    offsets up to ±23:59, PostgreSQL only up to ±15:59 (and would answer
    "+16:42" with a server error).
    """

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError:  # year 1 or 9999 moved past the calendar's edge
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    """
    ``true`` or ``false``, anything else a 400. django-filter's BooleanFilter
    reads "perhaps" as "not given" instead of refusing it.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)


class RequestFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=Status.choices, help_text="One or more statuses: `?status=new&status=triaged`."
    )
    type = django_filters.ChoiceFilter(choices=RequestType.choices, empty_label="Any type")
    priority = django_filters.ChoiceFilter(choices=Priority.choices, empty_label="Any priority")
    assignee = django_filters.NumberFilter(field_name="assignee_id", help_text="User id.")
    asset = django_filters.NumberFilter(field_name="asset_id", help_text="Asset id.")
    location = django_filters.ModelChoiceFilter(
        queryset=Location.objects.all(),
        method="filter_location",
        help_text="Location id; requests at any location inside it count too.",
    )
    created_after = UtcIsoDateTimeFilter(field_name="created", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created", lookup_expr="lt")
    due_after = UtcIsoDateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_before = UtcIsoDateTimeFilter(field_name="due_at", lookup_expr="lt")
    overdue = StrictBooleanFilter(
        method="filter_overdue",
        help_text="`true`: past their due date and not yet resolved, closed or cancelled; "
        "`false`: the others.",
    )
    search = django_filters.CharFilter(
        method="filter_search",
        help_text="Words in the title or description, or a number (`123`, `REQ-000123`).",
    )

    class Meta:
        model = MaintenanceRequest
        fields = []

    def filter_location(self, queryset, name, location):
        if location is None:
            return queryset
        # The materialised path makes the whole subtree one indexed condition.
        return queryset.filter(location__path__startswith=location.path)

    def filter_overdue(self, queryset, name, value):
        if value in (None, ""):
            return queryset
        now = timezone.now()
        return queryset.overdue(now) if value else queryset.exclude(overdue_condition(now))

    def filter_search(self, queryset, name, value):
        for term in value.split():
            match = NUMBER.match(term)
            condition = Q(title__icontains=term) | Q(description__icontains=term)
            if match:
                condition |= Q(number=int(match.group(1)))
            queryset = queryset.filter(condition)
        return queryset


PRIORITY_RANK = Case(
    *(When(priority=priority, then=Value(rank)) for rank, priority in enumerate(Priority.values)),
    output_field=IntegerField(),
)


# What a list may be sorted by, for the API's ``?ordering=`` and the web page's.
ORDERING_FIELDS = ("created", "due_at", "priority", "status", "number")


def request_order(queryset, ordering):
    """
    ``queryset`` sorted by ``ordering`` (names from ORDERING_FIELDS, ``-``
    for descending; others are ignored). Priority sorts by urgency (low <
    medium < high < urgent), not alphabetically. Ties are broken by newest
    first. No usable name: ``queryset`` as it was.
    """
    ordering = [field for field in ordering if field.lstrip("-") in ORDERING_FIELDS]
    if not ordering:
        return queryset
    ordering.append("-pk")
    if any(field.lstrip("-") == "priority" for field in ordering):
        queryset = queryset.alias(priority_rank=PRIORITY_RANK)
        ordering = [field.replace("priority", "priority_rank") for field in ordering]
    return queryset.order_by(*ordering)
