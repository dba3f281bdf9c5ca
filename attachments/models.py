"""
Files attached to what other apps own: a maintenance request or an asset.

The owners are named by string (``"requests_app.MaintenanceRequest"``,
``"assets.Asset"``), so this app imports neither; each owning app tells
``attachments.visibility`` who may see its files.
"""

import secrets
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def attachment_upload_to(instance, filename):
    """
    A random name under ``attachments/<year>/<month>/``, keeping only the
    (already validated) extension: the uploader's name is user input, kept in
    ``original_name`` for display and downloads, never used as a path.

    Relative on purpose: ``TenantFileSystemStorage`` prefixes the tenant's
    schema, so the file lands in ``MEDIA_ROOT/<schema>/attachments/...``.
    """
    suffix = PurePath(filename).suffix.lower()
    return timezone.now().strftime("attachments/%Y/%m/") + secrets.token_urlsafe(16) + suffix


class Attachment(models.Model):
    """
    A file attached to a maintenance request or to an asset (exactly one).

    Written only by ``attachments.services.attachment_create``, which checks
    size, type (by content, not by the client's word) and visibility.
    """

    # The fields that name an owner; attachments.visibility keys on them.
    OWNER_FIELDS = ("request", "asset")

    file = models.FileField(_("file"), upload_to=attachment_upload_to, max_length=255)
    original_name = models.CharField(_("original name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    request = models.ForeignKey(
        "requests_app.MaintenanceRequest",
        verbose_name=_("request"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
    )
    asset = models.ForeignKey(
        "assets.Asset",
        verbose_name=_("asset"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
    )
    # PROTECT: accounts are deactivated, not deleted, and history must keep its people.
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        # The table requests_app created before the model moved here.
        db_table = "requests_app_attachment"
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created", "pk"]
        constraints = [
            # Exactly one owner: a request or an asset, never both, never neither.
            models.CheckConstraint(
                condition=(
                    models.Q(request__isnull=False, asset__isnull=True)
                    | models.Q(request__isnull=True, asset__isnull=False)
                ),
                name="attachment_exactly_one_owner",
                violation_error_message=_("An attachment belongs to a request or an asset."),
            )
        ]

    def __str__(self):
        return self.original_name

    @property
    def owner_field(self) -> str:
        """The name of the field that holds this attachment's owner."""
        return next(name for name in self.OWNER_FIELDS if getattr(self, f"{name}_id") is not None)
