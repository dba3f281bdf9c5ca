"""
One attachment by id, whatever owns it: delete and download. Listing and
uploading belong to the owners' endpoints (``requests/{id}/attachments/``,
``assets/{id}/attachments/``).
"""

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action

from attachments import selectors, services
from attachments.api.schema import DOWNLOAD_RESPONSES
from attachments.api.serializers import AttachmentSerializer
from attachments.downloads import attachment_response
from attachments.models import Attachment


@extend_schema_view(
    destroy=extend_schema(summary="Delete an attachment (its uploader, or a lead)"),
)
class AttachmentViewSet(mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """
    One attachment, found by id among those you may see (those of requests
    you can see, and of assets if you may view assets).
    """

    serializer_class = AttachmentSerializer
    queryset = Attachment.objects.none()  # for the schema; see get_object
    lookup_value_regex = r"[0-9]+"

    def get_object(self):
        try:
            return selectors.attachment_get_visible(self.request.user, self.kwargs["pk"])
        except Attachment.DoesNotExist:
            raise Http404 from None

    def perform_destroy(self, attachment):
        services.attachment_delete(attachment=attachment, by=self.request.user)

    @extend_schema(
        summary="Download an attachment",
        responses=DOWNLOAD_RESPONSES,
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        attachment = self.get_object()
        return attachment_response(attachment)
