import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

from tenants.validators import plan_choices, validate_feature_overrides

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Enter a colour as #RRGGBB."))


def validate_timezone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value})


class Tenant(TenantMixin):
    """
    An organisation using SmartMaintenance. Its data lives in its own
    PostgreSQL schema, ``schema_name``; the public schema's row (no
    subdomain) stands for the platform itself.

    Limits are copied from the plan when the plan changes and may then be
    overridden per tenant by platform admins; ``None`` means unlimited.
    The plans, and whether an action is allowed, are billing's: this model
    only stores them (``billing.plans``, ``billing.limits``).
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
    # Set by billing (billing.services), which owns the plans; no default here.
    plan = models.CharField(_("plan"), max_length=20, choices=plan_choices)

    max_users = models.PositiveIntegerField(
        _("max. users"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    max_assets = models.PositiveIntegerField(
        _("max. assets"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    max_requests_per_month = models.PositiveIntegerField(
        _("max. requests a month"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    feature_overrides = models.JSONField(
        _("feature overrides"),
        default=dict,
        blank=True,
        help_text=_('Features turned on or off regardless of the plan, e.g. {"api_access": true}.'),
        validators=[validate_feature_overrides],
    )
    settings = models.JSONField(_("settings"), default=dict, blank=True)

    logo = models.ImageField(_("logo"), upload_to="branding/", blank=True)
    primary_color = models.CharField(
        _("primary colour"), max_length=7, default="#1f6feb", validators=[hex_colour]
    )
    secondary_color = models.CharField(
        _("secondary colour"), max_length=7, default="#656d76", validators=[hex_colour]
    )

    billing_email = models.EmailField(_("billing e-mail"), blank=True)
    contact_name = models.CharField(_("contact name"), max_length=150, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_timezone]
    )

    trial_ends = models.DateTimeField(_("trial ends"), null=True, blank=True)
    subscription_expires = models.DateTimeField(_("subscription expires"), null=True, blank=True)
    onboarded = models.BooleanField(_("onboarded"), default=False)
    suspension_reason = models.TextField(_("suspension reason"), blank=True)

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

    @property
    def url(self):
        return f"//{self.subdomain}.{settings.BASE_DOMAIN}/"

    def is_trial_expired(self, now=None):
        return (
            self.status == self.Status.TRIAL
            and self.trial_ends is not None
            and self.trial_ends <= (now or timezone.now())
        )

    @property
    def is_read_only(self):
        """
        Staff can look but not change anything: the trial has ended (for the
        grace period before suspension) or the account was cancelled.
        """
        return self.status == self.Status.CANCELLED or self.is_trial_expired()

    def is_subscription_expired(self, now=None):
        return self.subscription_expires is not None and self.subscription_expires <= (
            now or timezone.now()
        )


class Domain(DomainMixin):
    """A host name (no port, lower case) that routes to a tenant."""

    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")

    def save(self, *args, **kwargs):
        self.domain = self.domain.lower().rstrip(".")
        super().save(*args, **kwargs)


class DeletedTenant(models.Model):
    """
    What remains of a deleted organisation: its subdomain is held back from
    reuse until ``subdomain_released``, and its schema name is never reused.
    """

    name = models.CharField(_("name"), max_length=200)
    subdomain = models.CharField(_("subdomain"), max_length=63, db_index=True)
    schema_name = models.CharField(_("schema name"), max_length=63, unique=True)
    deleted = models.DateTimeField(_("deleted"), default=timezone.now)
    subdomain_released = models.DateTimeField(_("subdomain released"))
    export_path = models.CharField(_("export file"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("deleted tenant")
        verbose_name_plural = _("deleted tenants")
        ordering = ["-deleted"]

    def __str__(self):
        return f"{self.name} ({self.subdomain})"


class TenantAuditEntry(models.Model):
    """One change made to a tenant by a platform admin, a command or the system."""

    tenant = models.ForeignKey(
        Tenant, models.SET_NULL, null=True, blank=True, related_name="audit_entries"
    )
    tenant_name = models.CharField(_("tenant"), max_length=200)
    actor = models.CharField(
        _("actor"), max_length=254, help_text=_("E-mail of the person, or the process.")
    )
    action = models.CharField(_("action"), max_length=50)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    created = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("tenant audit entry")
        verbose_name_plural = _("tenant audit entries")
        ordering = ["-created"]

    def __str__(self):
        return f"{self.created:%Y-%m-%d %H:%M} {self.actor}: {self.action} {self.tenant_name}"


class SpareSchema(models.Model):
    """
    A copy of the template schema made ahead of time, waiting for a new
    tenant to take it (see tenants.provisioning).
    """

    name = models.CharField(_("schema name"), max_length=63, unique=True)
    template_oid = models.PositiveBigIntegerField(
        _("template oid"),
        help_text=_("The template schema's oid when copied: a rebuilt template has another."),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("spare schema")
        verbose_name_plural = _("spare schemas")
        ordering = ["pk"]

    def __str__(self):
        return self.name


class JobRun(models.Model):
    """
    One run of a periodic job in one tenant (see tenants.jobs): claimed once
    per slot before its task is sent, then marked as the task starts, succeeds
    or fails, so the platform admin sees what failed and what never ran.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        STARTED = "started", _("Started")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    job = models.CharField(_("job"), max_length=100)
    tenant = models.ForeignKey(Tenant, models.CASCADE, related_name="job_runs")
    slot = models.CharField(
        _("slot"), max_length=20, help_text=_("The local date, or the interval's start (UTC).")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.QUEUED)
    claim = models.UUIDField(
        _("claim"), editable=False, help_text=_("The fan-out that inserted this run.")
    )
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    queued = models.DateTimeField(_("queued"), default=timezone.now, db_index=True)
    started = models.DateTimeField(_("started"), null=True, blank=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        ordering = ["-queued"]
        constraints = [
            models.UniqueConstraint(fields=["job", "tenant", "slot"], name="job_run_once_per_slot")
        ]
        indexes = [
            models.Index(
                fields=["status", "queued"],
                name="job_run_unfinished",
                condition=models.Q(status__in=["queued", "started"]),
            )
        ]

    def __str__(self):
        return f"{self.job} {self.slot} ({self.tenant_id}): {self.status}"
