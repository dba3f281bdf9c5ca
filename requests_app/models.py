from django.db import models
from django.utils.translation import gettext_lazy as _


class MaintenanceRequest(models.Model):
    """A request for maintenance work, filed by a requester."""

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("maintenance request")
        verbose_name_plural = _("maintenance requests")
        ordering = ["-created"]

    def __str__(self):
        return self.title
