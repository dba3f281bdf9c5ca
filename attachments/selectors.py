"""Reads for attachments: the one place that decides who may download what."""

from attachments import visibility
from attachments.models import Attachment


def attachment_is_visible_to(attachment: Attachment, user) -> bool:
    """Whoever may see what the file is attached to (its owning app decides)."""
    field = attachment.owner_field
    return visibility.owner_is_visible_to(field, getattr(attachment, field), user)


def attachment_get_visible(user, pk) -> Attachment:
    """One attachment ``user`` may download; ``Attachment.DoesNotExist`` otherwise."""
    attachment = Attachment.objects.select_related(*Attachment.OWNER_FIELDS).get(pk=pk)
    if not attachment_is_visible_to(attachment, user):
        raise Attachment.DoesNotExist
    return attachment


def attachment_list(owner):
    """The attachments of a request or an asset, oldest first, with their uploaders."""
    return owner.attachments.select_related("uploaded_by").order_by("created", "pk")
