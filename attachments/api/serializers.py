"""The one attachment serializer, for requests' and assets' files alike."""

from rest_framework import serializers

from accounts.api.serializers import UserSmallSerializer
from attachments.models import Attachment


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = UserSmallSerializer(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "original_name",
            "content_type",
            "size",
            "uploaded_by",
            "created",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, attachment) -> str:
        return f"/api/v1/attachments/{attachment.pk}/download/"


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="At most 10 MB: JPEG, PNG, GIF, WebP, PDF, plain text or CSV."
    )
