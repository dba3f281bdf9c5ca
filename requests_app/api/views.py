"""
The requests endpoints. Views are thin: rows come from the selectors (which
apply who-sees-what), writes go through the services (which apply the
workflow, the plan limit and the audit trail); their ValidationErrors become
the API's error format in smartmaintenance/api/exceptions.py.
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from attachments import selectors as attachment_selectors
from attachments import services as attachment_services
from attachments.api.serializers import AttachmentSerializer, AttachmentUploadSerializer
from attachments.models import Attachment
from requests_app import selectors, services
from requests_app.api import selectors as api_selectors
from requests_app.api import serializers
from requests_app.api.filters import RequestFilter, RequestOrdering
from requests_app.models import (
    MaintenanceRequest,
    RequestComment,
    RequestTransition,
)

ADD_REQUEST = "requests_app.add_maintenancerequest"
# Pages up to 999,999 get their COUNT in the page's own statement (CountedRows).
PAGE_NUMBER_DIGITS = 6


class MayFileRequests(permissions.BasePermission):
    """Filing a request needs ``add_maintenancerequest`` (requesters, managers, admins)."""

    message = "You may not file requests."

    def has_permission(self, request, view):
        if view.action != "create":
            return True
        return request.user.has_perm(ADD_REQUEST)


CREATE_EXAMPLE = OpenApiExample(
    "An electrical request",
    request_only=True,
    value={
        "title": "Sparks from the socket in room 101",
        "description": "Next to the window; the breaker tripped twice.",
        "type": "electrical",
        "priority": "high",
        "asset": 12,
        "details": {"voltage": 230, "circuit": "Panel B / 7", "hazard_present": True},
    },
)
TRANSITION_EXAMPLES = [
    OpenApiExample("Triage", request_only=True, value={"to": "triaged", "note": "Checked."}),
    OpenApiExample("Assign", request_only=True, value={"to": "assigned", "assignee": 7}),
]


def details_error(error: services.DetailsRefused) -> ValidationError:
    """
    The service's refusal of the details as the API's input error: a detail
    field's messages at ``details.<field>``, the type's refusal of any
    details at ``details`` (the field the API's caller filled in).
    """
    messages = error.message_dict
    if "type" in messages:
        return ValidationError({"details": messages["type"]})
    return ValidationError({"details": messages})


class CountedRows:
    """
    A page source for the paginator: slices come from ``rows``, the count from
    ``requests``. Counting the values queryset would join the people, asset and
    location for nothing (values() keeps its joins in COUNT); the plain one
    counts the one table.

    ``page`` is the slice the paginator will ask for, when the request says
    which (``?page=<n>``, or none): then the count comes with that page's
    rows, in one statement (``api_selectors.request_rows_counted``), and the
    slice is served from them. A page past the end has no row to carry the
    count: it is counted on its own, as is ``?page=last``.
    """

    def __init__(self, rows, requests, page: slice | None = None):
        self.rows, self.requests, self.page = rows, requests, page
        self.page_rows = None

    def count(self):
        counted = (
            None
            if self.page is None
            else api_selectors.request_rows_counted(self.rows, self.requests)
        )
        if counted is not None:
            self.page_rows = list(counted[self.page])
            if self.page_rows:
                return self.page_rows[0][api_selectors.TOTAL]
            if self.page.start == 0:
                return 0  # nothing at all, counted in the same statement
            self.page_rows = None
        return self.requests.count()

    def __getitem__(self, key):
        # The paginator asks for [start:stop], or [start:count] on the last page.
        if self.page_rows is not None and key.start == self.page.start:
            return self.page_rows[: key.stop - key.start]
        return self.rows[key]


class RequestFilterBackend(DjangoFilterBackend):
    """django-filter's backend, skipped (form, validation and all) when no filter is given."""

    def filter_queryset(self, request, queryset, view):
        if not any(name in request.query_params for name in RequestFilter.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)


@extend_schema_view(
    list=extend_schema(summary="List the requests you may see"),
    retrieve=extend_schema(summary="One request", responses=serializers.RequestDetailSerializer),
)
class RequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """
    Maintenance requests. You see the requests you filed; technicians also
    those assigned to them and the unassigned ones of their trades; admins
    and managers see all. A request you may not see is a 404.

    Filing one (POST) counts against the plan's monthly limit
    (403 `plan_limit_reached`). PATCH changes title, description, priority,
    asset or location: leads at any time, the requester while it is `new`.
    The status only moves through POST `…/{id}/transition/`.
    """

    serializer_class = serializers.RequestSerializer
    permission_classes = [*viewsets.GenericViewSet.permission_classes, MayFileRequests]
    filterset_class = RequestFilter
    filter_backends = [RequestFilterBackend, RequestOrdering]
    ordering = ["-created", "-pk"]
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.request_list_visible_to(self.request.user)

    def list(self, request, *args, **kwargs):
        requests = self.filter_queryset(self.get_queryset())
        rows = CountedRows(api_selectors.request_rows(requests), requests, self._page_slice())
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _page_slice(self) -> slice | None:
        """
        The rows the paginator will read: ``?page=<n>`` (1 by default). None
        for anything else (``last``, ``0``, ``abc``...) and for pages so far
        out that their offset is no use to ask the database for: the
        paginator decides those after a COUNT of their own, as it always did.
        """
        paginator = self.paginator
        size = paginator.get_page_size(self.request)
        number = self.request.query_params.get(paginator.page_query_param) or "1"
        if not size or not number.isdecimal() or len(number) > PAGE_NUMBER_DIGITS:
            return None
        number = int(number)
        if number < 1:
            return None
        start = (number - 1) * size
        return slice(start, start + size)

    def retrieve(self, request, pk=None):
        return self._answer(pk)

    def get_serializer_class(self):
        if self.action == "list":
            return serializers.RequestSerializer
        return serializers.RequestDetailSerializer

    def _answer(self, request_pk, status_code=status.HTTP_200_OK):
        # DoesNotExist: 404
        row = api_selectors.request_row_get_visible(self.request.user, request_pk)
        serializer = serializers.RequestDetailSerializer(row, context=self.get_serializer_context())
        return Response(serializer.data, status=status_code)

    @extend_schema(
        summary="File a request",
        request=serializers.RequestWriteSerializer,
        responses={201: serializers.RequestDetailSerializer},
        examples=[CREATE_EXAMPLE],
    )
    def create(self, request):
        serializer = serializers.RequestWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            created = services.request_create(requester=request.user, **serializer.validated_data)
        except services.DetailsRefused as error:
            raise details_error(error) from error
        return self._answer(created.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a request",
        request=serializers.RequestUpdateSerializer,
        responses=serializers.RequestDetailSerializer,
    )
    def partial_update(self, request, pk=None):
        instance = self.get_object()
        serializer = serializers.RequestUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            services.request_update(request=instance, by=request.user, **serializer.validated_data)
        except services.DetailsRefused as error:
            raise details_error(error) from error
        return self._answer(instance.pk)

    @extend_schema(
        summary="Move a request along the workflow",
        description=(
            "Refusals: 400 `transition_not_allowed` (not a step of the workflow), "
            "403 `transition_forbidden` (not yours to take), 400 `assignee_required` "
            "or `invalid_assignee` (assigning needs an active technician), "
            "400 `assignee_not_expected`."
        ),
        request=serializers.TransitionSerializer,
        responses=serializers.RequestDetailSerializer,
        examples=TRANSITION_EXAMPLES,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def transition(self, request, pk=None):
        instance = self.get_object()
        serializer = serializers.TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.request_transition(
            request=instance,
            to_status=data["to"],
            by=request.user,
            note=data["note"],
            assignee=data.get("assignee"),
        )
        return self._answer(instance.pk)


REQUEST_PK = OpenApiParameter(
    "request_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The request's id."
)


class RequestChildMixin:
    """Endpoints under ``requests/{request_pk}/``: 404 unless you may see that request."""

    filter_backends = []

    def get_parent(self) -> MaintenanceRequest:
        if not hasattr(self, "_parent"):
            self._parent = selectors.request_list_visible_to(self.request.user).get(
                pk=self.kwargs["request_pk"]
            )
        return self._parent


@extend_schema(parameters=[REQUEST_PK])
@extend_schema_view(
    list=extend_schema(summary="A request's comments, oldest first"),
    create=extend_schema(summary="Comment on a request"),
)
class RequestCommentViewSet(
    RequestChildMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Comments on a request. Anyone who can see the request may read and add them."""

    serializer_class = serializers.CommentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular looking at it
            return RequestComment.objects.none()
        return selectors.request_comments(self.get_parent())

    def create(self, request, *args, **kwargs):
        self.get_parent()  # 404 for a request you cannot see, before looking at the input
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.request_comment_create(
            request=self.get_parent(),
            author=self.request.user,
            body=serializer.validated_data["body"],
        )


@extend_schema(parameters=[REQUEST_PK])
@extend_schema_view(
    list=extend_schema(summary="A request's attachments, oldest first"),
    create=extend_schema(
        summary="Attach a file to a request",
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer},
    ),
)
class RequestAttachmentViewSet(
    RequestChildMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """
    Files attached to a request. Upload with multipart/form-data (field
    `file`, at most 10 MB; JPEG, PNG, GIF, WebP, PDF, plain text or CSV,
    checked by content). Download with `GET /attachments/{id}/download/`.
    """

    serializer_class = AttachmentSerializer
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular looking at it
            return Attachment.objects.none()
        return attachment_selectors.attachment_list(self.get_parent())

    def create(self, request, *args, **kwargs):
        parent = self.get_parent()  # 404 before looking at the upload
        upload = AttachmentUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        attachment = attachment_services.attachment_create(
            file=upload.validated_data["file"],
            uploaded_by=request.user,
            request=parent,
        )
        body = AttachmentSerializer(attachment).data
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[REQUEST_PK])
@extend_schema_view(list=extend_schema(summary="A request's history, oldest first"))
class RequestHistoryViewSet(RequestChildMixin, viewsets.GenericViewSet):
    """
    What happened to a request: each workflow step (`transition`, with its
    note) and each changed field (`change`, with old and new value), oldest
    first. A transition also shows up as changes of `status` and `assignee`.
    """

    serializer_class = serializers.HistoryEntrySerializer

    def get_queryset(self):
        return RequestTransition.objects.none()  # the rows are built in list()

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(selectors.request_history(self.get_parent()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
