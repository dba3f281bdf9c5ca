"""What the OpenAPI schema says a download answers: the file, in one of the allowed types."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

from attachments.content import ALLOWED_TYPES

# One entry per type an upload may have (attachments.content), as the
# download's Content-Type is the type the content check settled on.
DOWNLOAD_RESPONSES = {
    (200, content_type): OpenApiResponse(
        OpenApiTypes.BINARY, description="The file, as a download."
    )
    for content_type in sorted(set(ALLOWED_TYPES.values()))
}
