"""
Writes for attachments: the file's checks (``attachments.content``), the
owner's visibility (``attachments.visibility``) and storage clean-up, in one
place. See docs/requests.md, "Attachments".

Files go to the default storage, django-tenants' ``TenantFileSystemStorage``,
under a relative path, so they land in ``MEDIA_ROOT/<schema>/attachments/``;
nothing serves ``MEDIA_ROOT`` directly, every download goes through
``attachments.downloads.attachment_response`` after
``attachments.selectors.attachment_get_visible``.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.selectors import user_is_lead
from attachments import visibility
from attachments.content import attachment_validate_file
from attachments.models import Attachment
from attachments.selectors import attachment_is_visible_to

REFUSALS = {
    "request": _("You cannot attach files to this request."),
    "asset": _("You cannot attach files to this asset."),
}


def attachment_create(*, file, uploaded_by, request=None, asset=None) -> Attachment:
    """
    Attach ``file`` to a request or to an asset (exactly one of them).

    ``uploaded_by`` must be able to see the owner, as its app decides
    (``attachments.visibility``). The file is validated by
    ``attachment_validate_file`` before anything is written. The file is
    stored before the row is inserted (``FileField`` saves on ``pre_save``);
    if the insert fails the stored file is deleted again, so a failed create
    leaves neither a row nor a file.
    """
    if (request is None) == (asset is None):
        raise ValidationError(
            _("An attachment belongs to a request or an asset."), code="attachment_owner"
        )
    owner_field, owner = ("request", request) if request is not None else ("asset", asset)
    if not visibility.owner_is_visible_to(owner_field, owner, uploaded_by):
        raise ValidationError(REFUSALS[owner_field], code="attachment_forbidden")
    original_name, content_type = attachment_validate_file(file)

    attachment = Attachment(
        request=request,
        asset=asset,
        uploaded_by=uploaded_by,
        original_name=original_name,
        content_type=content_type,
        size=file.size,
    )
    # The storage name comes from upload_to (random), not from the client.
    attachment.file = file
    attachment.file.name = original_name
    try:
        with transaction.atomic():
            attachment.save()
    except BaseException:
        # pre_save stored the file before the INSERT failed: remove it, or it
        # would sit in the tenant's folder with no row pointing at it.
        stored = attachment.file.name
        if stored and stored != original_name and attachment.file.storage.exists(stored):
            attachment.file.storage.delete(stored)
        raise
    return attachment


def attachment_delete(*, attachment: Attachment, by) -> None:
    """
    Delete an attachment: its uploader or a lead (admin, manager) may, if
    they can still see what it is attached to. The file goes after commit,
    so a rolled-back delete keeps it.
    """
    if not attachment_is_visible_to(attachment, by) or not (
        attachment.uploaded_by_id == by.pk or user_is_lead(by)
    ):
        raise ValidationError(
            _("You cannot delete this attachment."), code="attachment_delete_forbidden"
        )
    storage, name = attachment.file.storage, attachment.file.name
    with transaction.atomic():
        attachment.delete()
        transaction.on_commit(lambda: storage.delete(name))
