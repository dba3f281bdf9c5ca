"""
A tenant's webhook endpoints and the log of every delivery made to them.

Both live in the tenant's schema: an endpoint only ever hears about its own
organisation's requests, and its deliveries are visible to its admins only.
"""

import secrets
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from requests_app.events import EventKind

SECRET_PREFIX = "whsec_"  # noqa: S105 - a marker, not a secret


def secret_generate() -> str:
    """A fresh signing secret: 256 random bits, prefixed so that a leaked one is recognisable."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    # The URL is validated by services.endpoint_url_validate (scheme, host,
    # private addresses), not by a field validator: its rules depend on
    # settings and on name resolution, and it is checked again at send time.
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # The EventKind values this endpoint wants; empty means every kind, so
    # an endpoint made before a new kind exists hears about it too.
    events = ArrayField(
        models.CharField(max_length=40, choices=EventKind.choices),
        verbose_name=_("events"),
        blank=True,
        default=list,
    )
    # Kept in clear: signing needs it. Only admins see it (web UI, API).
    secret = models.CharField(_("signing secret"), max_length=100, default=secret_generate)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["created", "pk"]

    def __str__(self):
        return self.url


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RETRYING = "retrying", _("Retrying")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    # The id a receiver sees in X-SmartMaintenance-Delivery.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("endpoint"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event_kind = models.CharField(_("event"), max_length=40, choices=EventKind.choices)
    # One event may be delivered more than once (retries of one delivery,
    # replays as new deliveries): receivers deduplicate on this id.
    event_id = models.UUIDField(_("event id"), db_index=True)
    payload = models.JSONField(_("payload"))
    replay_of = models.ForeignKey(
        "self",
        verbose_name=_("replay of"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replays",
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_response_code = models.PositiveSmallIntegerField(
        _("last response code"), null=True, blank=True
    )
    last_response_body = models.TextField(_("last response body (excerpt)"), blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created"]
        indexes = [
            # The "send what is due" sweep.
            models.Index(
                fields=["next_attempt_at"],
                name="webhooks_delivery_due",
                # Spelt with OR, not IN: PostgreSQL prints an IN list back
                # differently once copied, and tenant schemas are copies of the
                # template (tenants/provisioning.py), compared in tests.
                condition=models.Q(status="pending") | models.Q(status="retrying"),
            )
        ]
        permissions = [("replay_webhookdelivery", _("Can replay a webhook delivery"))]

    def __str__(self):
        return f"{self.event_kind} → {self.endpoint_id} ({self.status})"
