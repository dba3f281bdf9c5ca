from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.managers import UserManager


class User(AbstractBaseUser, PermissionsMixin):
    """
    A person who logs in with an e-mail address.

    The table exists in every schema: in the public schema it holds platform
    admins, in a tenant's schema that organisation's staff. The same address
    may therefore belong to different, unrelated accounts in two tenants.
    """

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Designates whether the user can log into the Django admin site."),
    )
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Unselect this instead of deleting accounts."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self):
        return self.full_name or self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Trade(models.TextChoices):
    """
    The kinds of work technicians do. A maintenance request's type is the
    trade that does it (``requests_app.models.RequestType`` is this).
    """

    ELECTRICAL = "electrical", _("Electrical")
    PLUMBING = "plumbing", _("Plumbing")
    HVAC = "hvac", _("HVAC")
    GENERAL = "general", _("General")


class TechnicianTrade(models.Model):
    """A trade a user works in. Technicians see the unassigned requests of their trades."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trades"
    )
    trade = models.CharField(_("trade"), max_length=20, choices=Trade)

    class Meta:
        # The table requests_app created before the model moved here.
        db_table = "requests_app_techniciantrade"
        verbose_name = _("technician trade")
        verbose_name_plural = _("technician trades")
        constraints = [
            models.UniqueConstraint(fields=["user", "trade"], name="technician_trade_unique")
        ]

    def __str__(self):
        return f"{self.user_id}: {self.trade}"


class NotificationPreference(models.Model):
    """
    Which kinds of e-mail notification a user wants. Every kind is on by
    default: a user without a row gets them all, so the row is only created
    when someone turns a kind off on their preferences page.
    """

    # The kinds, as field names: requests_app/notifications.py filters on them.
    KINDS = ("assignment", "status_change", "comment", "sla_breach")

    user = models.OneToOneField(
        User,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_preference",
    )
    assignment = models.BooleanField(_("a request is assigned to me"), default=True)
    status_change = models.BooleanField(
        _("the status of a request I filed or work on changes"), default=True
    )
    comment = models.BooleanField(_("someone comments on a request I am involved in"), default=True)
    sla_breach = models.BooleanField(
        _("a request I am responsible for misses its due date"), default=True
    )

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return f"{self.user_id}: notifications"


class APIKey(models.Model):
    """
    A key an integration calls the tenant's REST API with.

    The key reads ``smk_<prefix>_<secret>``: the prefix finds the row, and
    only a SHA-256 hash of the secret is stored, so the key is shown once,
    when made, and a leaked database does not leak working keys. (The secret
    is 256 random bits, which a fast hash protects as well as a slow one.)
    A key acts as the user who made it, with that user's current roles; it
    stops working when revoked or when that user is deactivated.
    """

    class Access(models.TextChoices):
        READ_ONLY = "read_only", _("Read only")
        READ_WRITE = "read_write", _("Read and write")

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    hashed_secret = models.CharField(max_length=64, editable=False)
    access = models.CharField(
        _("access"), max_length=10, choices=Access.choices, default=Access.READ_ONLY
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("acts as")
    )
    created = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created"]

    def __str__(self):
        return f"{self.name} (smk_{self.prefix}_…)"

    @property
    def is_active(self):
        return self.revoked is None

    @property
    def read_only(self):
        return self.access == self.Access.READ_ONLY
