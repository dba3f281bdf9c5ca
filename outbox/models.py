"""
E-mail waiting to be sent. Rows live in the schema that sent the mail (each
tenant's, or the public one for the platform's own mail), written in the
transaction of the change that caused it, so mail is neither lost when the
broker is down nor sent for a change that rolled back.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboundEmail(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    subject = models.TextField(_("subject"))
    body = models.TextField(_("body"), blank=True)
    from_email = models.CharField(_("from"), max_length=320)
    to = models.JSONField(_("to"), default=list)
    cc = models.JSONField(_("cc"), default=list, blank=True)
    bcc = models.JSONField(_("bcc"), default=list, blank=True)
    reply_to = models.JSONField(_("reply to"), default=list, blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    alternatives = models.JSONField(
        _("alternatives"), default=list, blank=True, help_text=_("[content, MIME type] pairs.")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now)
    sent = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbound e-mail")
        verbose_name_plural = _("outbound e-mails")
        ordering = ["-created"]
        indexes = [
            models.Index(
                fields=["created"],
                name="outbound_email_pending",
                condition=models.Q(status="pending"),
            )
        ]

    def __str__(self):
        return f"{self.subject} → {', '.join(self.to)}"
