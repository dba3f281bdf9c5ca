"""
The assets REST endpoints: locations and assets (with their history and
attachments). Thin: input is validated by a serializer, every write goes
through ``assets.services`` or ``attachments.services``, and their
ValidationErrors become the API's error format in the exception handler.
"""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from assets import selectors, services
from assets.api import filters, serializers
from assets.models import Asset, Location
from attachments import selectors as attachment_selectors
from attachments import services as attachment_services
from attachments.api.serializers import AttachmentUploadSerializer
from attachments.downloads import attachment_response
from attachments.models import Attachment
from smartmaintenance.api.permissions import HasModelPermission


class ActionPermission(HasModelPermission):
    """
    Django model permissions, except for the actions a view lists in
    ``action_permissions``: an extra action's method says little about what it
    does (POST .../retire/ changes an asset, it adds none).
    """

    def has_permission(self, request, view):
        required = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if required is None:
            return super().has_permission(request, view)
        user = request.user
        return bool(user and user.is_authenticated and user.has_perms(required))


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


# --- Locations -------------------------------------------------------------------


class LocationViewSet(ReadCreateUpdateViewSet):
    """
    The organisation's places, site → building → floor → room, listed as a
    tree (parents right before their children). ``path`` gives the names from
    the site down. Moving a location (a new ``parent``) moves everything
    inside it. Locations are not deleted: assets and history point at them.
    """

    queryset = Location.objects.all()
    serializer_class = serializers.LocationSerializer
    filterset_fields = ["kind", "parent"]
    search_fields = ["name"]
    ordering_fields = ["name", "created"]

    def get_queryset(self):
        return selectors.location_tree()

    @extend_schema(
        request=serializers.LocationInputSerializer,
        responses={201: serializers.LocationSerializer},
    )
    def create(self, request):
        serializer = serializers.LocationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        location = services.location_create(**serializer.validated_data)
        return Response(
            serializers.LocationSerializer(location, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=serializers.LocationInputSerializer,
        responses=serializers.LocationSerializer,
    )
    def partial_update(self, request, pk=None):
        location = self.get_object()
        serializer = serializers.LocationInputSerializer(location, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        location = services.location_update(location=location, data=serializer.validated_data)
        return Response(
            serializers.LocationSerializer(location, context=self.get_serializer_context()).data
        )


# --- Assets ----------------------------------------------------------------------

ATTACHMENT_ID = OpenApiParameter(
    "attachment_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The attachment's id."
)


class AssetViewSet(ReadCreateUpdateViewSet):
    """
    The organisation's assets. Retired assets are left out of the list unless
    ``include_retired`` is set or ``status`` is filtered on; ``location``
    includes everything inside that location. Creating one counts against
    the plan's asset limit (403 ``plan_limit_reached``). Retire with
    ``POST /assets/{id}/retire/``; the status cannot be set to retired
    otherwise.
    """

    queryset = Asset.objects.all()
    serializer_class = serializers.AssetSerializer
    filterset_class = filters.AssetAPIFilter
    search_fields = ["name", "asset_tag", "serial_number"]
    ordering_fields = ["name", "asset_tag", "created"]
    parser_classes = [JSONParser, MultiPartParser]
    action_permissions = {
        "retire": ["assets.change_asset"],
        # As in the web UI: whoever may see an asset may see and attach its
        # files; attachment_delete decides who may delete one.
        "history": ["assets.view_asset"],
        "attachments": ["assets.view_asset"],
        "attachment_detail": ["assets.view_asset"],
        "attachment_download": ["assets.view_asset"],
    }

    def get_queryset(self):
        # The serializer shows the parent by id: no join for it.
        return Asset.objects.select_related("location")

    def _asset_body(self, asset: Asset) -> dict:
        asset = selectors.asset_get(pk=asset.pk)
        return serializers.AssetSerializer(asset, context=self.get_serializer_context()).data

    @extend_schema(
        request=serializers.AssetInputSerializer, responses={201: serializers.AssetSerializer}
    )
    def create(self, request):
        serializer = serializers.AssetInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        asset = services.asset_create(user=request.user, **serializer.validated_data)
        return Response(self._asset_body(asset), status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.AssetInputSerializer, responses=serializers.AssetSerializer)
    def partial_update(self, request, pk=None):
        asset = self.get_object()
        serializer = serializers.AssetInputSerializer(asset, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        asset = services.asset_update(
            asset=asset, user=request.user, data=serializer.validated_data
        )
        return Response(self._asset_body(asset))

    @extend_schema(request=None, responses=serializers.AssetSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        """Take the asset out of use for good; 400 ``already_retired`` if it is."""
        asset = services.asset_retire(asset=self.get_object(), user=request.user)
        return Response(self._asset_body(asset))

    @extend_schema(responses=serializers.AssetChangeSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def history(self, request, pk=None):
        """The asset's audit trail, newest first: one entry per changed field."""
        changes = selectors.asset_changes(asset=self.get_object())
        page = self.paginate_queryset(changes)
        return self.get_paginated_response(serializers.AssetChangeSerializer(page, many=True).data)

    @extend_schema(methods=["GET"], responses=serializers.AssetAttachmentSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: serializers.AssetAttachmentSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filter_backends=[],
        parser_classes=[MultiPartParser],
    )
    def attachments(self, request, pk=None):
        """
        The asset's files, oldest first (GET), or attach one (POST, multipart
        ``file``; at most 10 MB, an image, PDF, text or CSV, checked by content).
        """
        asset = self.get_object()
        context = self.get_serializer_context()
        if request.method == "POST":
            upload = AttachmentUploadSerializer(data=request.data)
            upload.is_valid(raise_exception=True)
            attachment = attachment_services.attachment_create(
                file=upload.validated_data["file"], uploaded_by=request.user, asset=asset
            )
            return Response(
                serializers.AssetAttachmentSerializer(attachment, context=context).data,
                status=status.HTTP_201_CREATED,
            )
        files = attachment_selectors.attachment_list(asset)
        page = self.paginate_queryset(files)
        return self.get_paginated_response(
            serializers.AssetAttachmentSerializer(page, many=True, context=context).data
        )

    def _attachment(self, request, attachment_pk):
        """One attachment of this asset that the user may see; 404 for anything else."""
        asset = self.get_object()
        try:
            attachment = attachment_selectors.attachment_get_visible(request.user, attachment_pk)
        except Attachment.DoesNotExist:
            raise Http404 from None
        if attachment.asset_id != asset.pk:
            raise Http404
        return attachment

    @extend_schema(parameters=[ATTACHMENT_ID], request=None, responses={204: None})
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"attachments/(?P<attachment_pk>[0-9]+)",
        url_name="attachment-detail",
        filter_backends=[],
    )
    def attachment_detail(self, request, pk=None, attachment_pk=None):
        """Delete an attachment: its uploader, or a manager or admin, may."""
        attachment = self._attachment(request, attachment_pk)
        attachment_services.attachment_delete(attachment=attachment, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[ATTACHMENT_ID],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, as a download."
            )
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_pk>[0-9]+)/download",
        url_name="attachment-download",
        filter_backends=[],
    )
    def attachment_download(self, request, pk=None, attachment_pk=None):
        """
        The file under its original name, always as a download, never inline,
        so an upload can never run as a page of this site.
        """
        attachment = self._attachment(request, attachment_pk)
        return attachment_response(attachment)
