from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin


class Tenant(TenantMixin):
    """
    An organisation using SmartMaintenance. Its data lives in its own
    PostgreSQL schema, ``schema_name``; the public schema's row (no
    subdomain) stands for the platform itself.
    """

    class Status(models.TextChoices):
        TRIAL = "trial", _("Trial")
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Past due")
        SUSPENDED = "suspended", _("Suspended")
        CANCELLED = "cancelled", _("Cancelled")

    name = models.CharField(_("name"), max_length=200)
    subdomain = models.CharField(_("subdomain"), max_length=63, unique=True, null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.TRIAL)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    # Schemas are created by tenants.services, never as a side effect of save().
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def is_public(self):
        return self.subdomain is None

    @property
    def is_suspended(self):
        return self.status == self.Status.SUSPENDED


class Domain(DomainMixin):
    """A host name (no port, lower case) that routes to a tenant."""

    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")

    def save(self, *args, **kwargs):
        self.domain = self.domain.lower().rstrip(".")
        super().save(*args, **kwargs)
