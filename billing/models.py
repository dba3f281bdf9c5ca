"""Billing's records in the public schema."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class UsageSnapshot(models.Model):
    """
    A tenant's usage on one day (its local date), taken by a daily periodic
    job, so the platform admin can follow a tenant's growth against its plan.
    Taken again the same day, it is replaced: one row per tenant and day.
    """

    tenant = models.ForeignKey("tenants.Tenant", models.CASCADE, related_name="usage_snapshots")
    day = models.DateField(_("day"))
    users = models.PositiveIntegerField(_("users"))
    assets = models.PositiveIntegerField(_("assets"))
    requests_this_month = models.PositiveIntegerField(_("requests this month"))
    storage_bytes = models.PositiveBigIntegerField(_("storage (bytes)"))
    plan = models.CharField(_("plan"), max_length=20)
    taken = models.DateTimeField(_("taken"), auto_now=True)

    class Meta:
        verbose_name = _("usage snapshot")
        verbose_name_plural = _("usage snapshots")
        ordering = ["tenant", "-day"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day"], name="usage_snapshot_once_a_day")
        ]

    def __str__(self):
        return f"{self.tenant_id} {self.day}"
