"""Billing's records in the public schema."""

from django.db import models
from django.utils import timezone
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


# Who may change the organisation's plan and billing (the built-in Admin role
# holds it); the plan page checks it and the settings menu lists the page by it.
MANAGE_BILLING = "billing.manage_billing"


class TenantSubscription(models.Model):
    """
    A tenant's subscription: the one record that decides its plan and, through
    ``billing.subscriptions``, its status. Stripe's subscription object is its
    source when the tenant pays through Stripe; without Stripe (no keys, the
    free plan, a trial, a plan set by a platform admin) it is kept here alone.
    """

    class Status(models.TextChoices):
        TRIALING = "trialing", _("Trialing")
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Past due")
        PAUSED = "paused", _("Paused")
        CANCELLED = "cancelled", _("Cancelled")
        INCOMPLETE = "incomplete", _("Incomplete")

    class Cycle(models.TextChoices):
        MONTHLY = "monthly", _("Monthly")
        ANNUAL = "annual", _("Annual")

    tenant = models.OneToOneField(
        "tenants.Tenant", models.CASCADE, related_name="subscription", verbose_name=_("tenant")
    )
    plan = models.CharField(_("plan"), max_length=20)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.ACTIVE)
    billing_cycle = models.CharField(
        _("billing cycle"), max_length=10, choices=Cycle, default=Cycle.MONTHLY
    )
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3, default="usd")

    stripe_customer_id = models.CharField(
        _("Stripe customer"), max_length=255, blank=True, db_index=True
    )
    stripe_subscription_id = models.CharField(_("Stripe subscription"), max_length=255, blank=True)
    stripe_payment_method_id = models.CharField(
        _("Stripe payment method"), max_length=255, blank=True
    )

    current_period_start = models.DateTimeField(_("current period start"), null=True, blank=True)
    current_period_end = models.DateTimeField(_("current period end"), null=True, blank=True)
    trial_start = models.DateTimeField(_("trial start"), null=True, blank=True)
    trial_end = models.DateTimeField(_("trial end"), null=True, blank=True)
    cancel_at = models.DateTimeField(_("cancel at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_at_period_end = models.BooleanField(_("cancel at period end"), default=False)

    # Which Stripe state this row holds, as a sortable key (billing.stripe_data.
    # state_key): a state is applied only over one with a smaller key, so
    # events give the same result in whatever order they arrive.
    stripe_state_key = models.CharField(_("Stripe state key"), max_length=200, blank=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("tenant subscription")
        verbose_name_plural = _("tenant subscriptions")
        ordering = ["tenant__name"]
        permissions = [("manage_billing", _("Can manage the organisation's plan and billing"))]

    def __str__(self):
        return f"{self.tenant} ({self.plan}, {self.status})"

    @property
    def is_active(self) -> bool:
        """Whether the tenant has the use of its plan (in a trial, paid, or in the grace period)."""
        return self.status in (self.Status.TRIALING, self.Status.ACTIVE, self.Status.PAST_DUE)

    def is_in_trial(self, now=None) -> bool:
        return self.status == self.Status.TRIALING and (
            self.trial_end is None or self.trial_end > (now or timezone.now())
        )

    def days_until_renewal(self, now=None) -> int | None:
        """Whole days until the period renews (or the trial ends); None without a date."""
        end = self.trial_end if self.status == self.Status.TRIALING else self.current_period_end
        if end is None or self.cancel_at_period_end or self.status == self.Status.CANCELLED:
            return None
        return max((end - (now or timezone.now())).days, 0)


class StripeEvent(models.Model):
    """
    A Stripe webhook event we accepted, by its id: the unique constraint is
    what makes a redelivered event, even one arriving twice at once, apply once.
    """

    event_id = models.CharField(_("event id"), max_length=255, unique=True)
    type = models.CharField(_("type"), max_length=100)
    created = models.DateTimeField(_("created at Stripe"))
    received = models.DateTimeField(_("received"), auto_now_add=True)
    livemode = models.BooleanField(_("live mode"), default=False)
    tenant = models.ForeignKey(
        "tenants.Tenant", models.SET_NULL, null=True, blank=True, related_name="stripe_events"
    )
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    data = models.JSONField(_("data"), default=dict)

    class Meta:
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")
        ordering = ["-received"]

    def __str__(self):
        return f"{self.event_id} {self.type}"
