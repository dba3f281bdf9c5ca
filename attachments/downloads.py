"""The one way an attachment's file leaves the site, for the web views and the API alike."""

from django.http import FileResponse

from attachments.models import Attachment


def attachment_response(attachment: Attachment) -> FileResponse:
    """
    The file under its original name, always as a download, never inline, so
    an upload can never run as a page of this site: nosniff, and a sandboxing
    CSP as a second lock. Check that the user may see it first.
    """
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
