from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    LOGIN = "login", _("Logged in")
    LOGIN_FAILED = "login_failed", _("Login failed")
    LOCKED_OUT = "locked_out", _("Locked out")
    UNLOCKED = "unlocked", _("Unlocked")
    LOGOUT = "logout", _("Logged out")
    USER_CREATED = "user_created", _("User created")
    USER_CHANGED = "user_changed", _("User changed")
    ROLE_CREATED = "role_created", _("Role created")
    ROLE_CHANGED = "role_changed", _("Role changed")
    ROLE_DELETED = "role_deleted", _("Role deleted")
    API_KEY_CREATED = "api_key_created", _("API key created")
    API_KEY_REVOKED = "api_key_revoked", _("API key revoked")
    WEBHOOK_CREATED = "webhook_created", _("Webhook created")
    WEBHOOK_CHANGED = "webhook_changed", _("Webhook changed")
    WEBHOOK_DELETED = "webhook_deleted", _("Webhook deleted")
    SETTINGS_CHANGED = "settings_changed", _("Settings changed")
    PLAN_CHANGED = "plan_changed", _("Plan changed")
    EXPORTED = "exported", _("Data exported")
    TWO_FACTOR_ENABLED = "two_factor_enabled", _("Two-factor enabled")
    TWO_FACTOR_DISABLED = "two_factor_disabled", _("Two-factor disabled")


class AuditEntry(models.Model):
    """
    One thing that happened in the tenant, kept for the plan's retention.

    The actor is stored as values (id and e-mail at the time), not as a
    foreign key: the log sits below accounts in the layers, and an entry must
    outlive any change to the user it names.
    """

    created = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    action = models.CharField(_("action"), max_length=40, choices=Action, db_index=True)
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True)
    actor_email = models.CharField(_("actor"), max_length=254, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    target_type = models.CharField(_("object type"), max_length=40, blank=True)
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    target_repr = models.CharField(_("object"), max_length=200, blank=True)
    # {"field": [old, new], ...} for a change; the values given for a creation.
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"{self.created:%Y-%m-%d %H:%M} {self.actor_email or '-'} {self.action}"
