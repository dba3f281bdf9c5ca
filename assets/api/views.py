"""
The assets REST endpoints: locations and assets (with their history and
attachments). Thin: input is validated by a serializer, every write goes
through ``assets.services`` or ``attachments.services``, and their
ValidationErrors become the API's error format in the exception handler.
"""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from assets import selectors, services
from assets.api import filters, serializers
from assets.models import Asset, Location
from attachments import selectors as attachment_selectors
from attachments import services as attachment_services
from attachments.api.schema import DOWNLOAD_RESPONSES
from attachments.api.serializers import AttachmentUploadSerializer
from attachments.downloads import attachment_response
from attachments.models import Attachment
from smartmaintenance.api.viewsets import ReadCreateUpdateViewSet

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
        data = self.validated_input(serializers.LocationInputSerializer)
        location = services.location_create(**data)
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
        data = self.validated_input(serializers.LocationInputSerializer, location)
        location = services.location_update(location=location, data=data)
        return Response(
            serializers.LocationSerializer(location, context=self.get_serializer_context()).data
        )


# --- Assets ----------------------------------------------------------------------

ATTACHMENT_ID = OpenApiParameter(
    "attachment_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The attachment's id."
)


def _attachment_action(*, methods, url_path, url_name):
    """An action on one attachment of the asset: ``attachments/<attachment_pk>`` + ``url_path``."""
    return action(
        detail=True,
        methods=methods,
        url_path=r"attachments/(?P<attachment_pk>[0-9]+)" + url_path,
        url_name=url_name,
        filter_backends=[],
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
        data = self.validated_input(serializers.AssetInputSerializer)
        asset = services.asset_create(user=request.user, **data)
        return Response(self._asset_body(asset), status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.AssetInputSerializer, responses=serializers.AssetSerializer)
    def partial_update(self, request, pk=None):
        asset = self.get_object()
        data = self.validated_input(serializers.AssetInputSerializer, asset)
        asset = services.asset_update(asset=asset, user=request.user, data=data)
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
        return self.paginated_response(changes, serializers.AssetChangeSerializer)

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
        return self.paginated_response(
            files, serializers.AssetAttachmentSerializer, context=context
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
    @_attachment_action(methods=["delete"], url_path="", url_name="attachment-detail")
    def attachment_detail(self, request, pk=None, attachment_pk=None):
        """Delete an attachment: its uploader, or a manager or admin, may."""
        attachment = self._attachment(request, attachment_pk)
        attachment_services.attachment_delete(attachment=attachment, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[ATTACHMENT_ID],
        responses=DOWNLOAD_RESPONSES,
    )
    @_attachment_action(methods=["get"], url_path="/download", url_name="attachment-download")
    def attachment_download(self, request, pk=None, attachment_pk=None):
        """
        The file under its original name, always as a download, never inline,
        so an upload can never run as a page of this site.
        """
        attachment = self._attachment(request, attachment_pk)
        return attachment_response(attachment)
