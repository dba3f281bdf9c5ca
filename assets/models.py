from django.db import models
from django.utils.translation import gettext_lazy as _


class Asset(models.Model):
    """A piece of equipment or a place that maintenance requests are filed against."""

    name = models.CharField(_("name"), max_length=200)
    asset_tag = models.CharField(_("asset tag"), max_length=50, unique=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.asset_tag})"
