"""
Locations and assets of one tenant.

Business rules (kind hierarchy, cycles, audit) are enforced by the model's
``clean`` methods and by ``assets.services``, the single write path.
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from requests_app.models import Priority, RequestType

PATH_SEPARATOR = "/"
# Fixed-width segments make ordering by path a pre-order walk of the tree
# under any collation: a parent sorts right before its children, siblings by key.
PATH_SEGMENT_WIDTH = 10


def path_segment(pk: int) -> str:
    return f"{pk:0{PATH_SEGMENT_WIDTH}d}{PATH_SEPARATOR}"


class Location(models.Model):
    """
    A place in the tenant's estate: site → building → floor → room.

    ``path`` is a materialised path of zero-padded primary keys,
    ``/0000000001/0000000007/0000000042/`` for room 42 on floor 7 of site 1,
    maintained by ``assets.services``. It makes "all
    ancestors" and "the whole subtree" one indexed query each, at the price of
    rewriting the descendants' paths when a location moves (rare).
    """

    class Kind(models.TextChoices):
        # Declaration order is the hierarchy, from the top.
        SITE = "site", _("site")
        BUILDING = "building", _("building")
        FLOOR = "floor", _("floor")
        ROOM = "room", _("room")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    address = models.TextField(_("address"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # db_index: Django adds a varchar_pattern_ops twin, which path__startswith uses.
    path = models.CharField(_("path"), max_length=255, editable=False, default="", db_index=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["path"]
        constraints = [
            # Two "Floor 1" under one building would be indistinguishable in
            # every picker; NULLS NOT DISTINCT covers the top-level sites too.
            models.UniqueConstraint(
                fields=["parent", "name"],
                name="assets_location_unique_name_per_parent",
                nulls_distinct=False,
                violation_error_message=_("There is already a location with this name here."),
            ),
        ]

    def __str__(self):
        return self.name

    @classmethod
    def level(cls, kind) -> int:
        return cls.Kind.values.index(kind)

    @property
    def depth(self) -> int:
        """0 for a top-level location; read from the path, so no query."""
        return max(self.path.count(PATH_SEPARATOR) - 2, 0)

    @property
    def ancestor_ids(self) -> list[int]:
        """Primary keys from the root down to the parent."""
        return [
            int(part) for part in self.path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)[:-1] if part
        ]

    def clean(self):
        super().clean()
        if self.kind not in self.Kind.values:
            return  # the field's own validation reports it
        errors = {}
        if self.kind == self.Kind.SITE and self.parent_id:
            errors["parent"] = _("A site is the top of a tree and has no parent.")
        elif self.kind != self.Kind.SITE and not self.parent_id:
            errors["parent"] = _("A %(kind)s must be inside another location.") % {
                "kind": self.get_kind_display()
            }
        elif self.parent_id:
            parent = self.parent
            if self.pk and (parent.pk == self.pk or parent.path.startswith(self.path)):
                errors["parent"] = _(
                    "A location cannot be inside itself or one of its own sublocations."
                )
            elif self.level(parent.kind) >= self.level(self.kind):
                # Levels may be skipped (a room straight in a single-storey
                # building) but never reversed.
                errors["parent"] = _("A %(kind)s cannot be inside a %(parent_kind)s.") % {
                    "kind": self.get_kind_display(),
                    "parent_kind": parent.get_kind_display(),
                }
        if self.pk and "parent" not in errors:
            lowest = self.level(self.kind)
            children_kinds = set(self.children.values_list("kind", flat=True))
            if any(self.level(kind) <= lowest for kind in children_kinds):
                errors["kind"] = _("Some locations inside this one would then be above it.")
        if errors:
            raise ValidationError(errors)


class AssetStatus(models.TextChoices):
    OPERATIONAL = "operational", _("operational")
    NEEDS_ATTENTION = "needs_attention", _("needs attention")
    OUT_OF_SERVICE = "out_of_service", _("out of service")
    RETIRED = "retired", _("retired")


def new_report_token() -> str:
    """128 random bits, URL-safe: the secret part of an asset's QR code URL."""
    return secrets.token_urlsafe(16)


class Asset(models.Model):
    """A piece of equipment or a place that maintenance requests are filed against."""

    Status = AssetStatus

    name = models.CharField(_("name"), max_length=200)
    asset_tag = models.CharField(_("asset tag"), max_length=50, unique=True)
    # Free text rather than a table: every organisation names its own
    # categories, and the UI offers the ones already in use.
    category = models.CharField(_("category"), max_length=100, blank=True, db_index=True)
    location = models.ForeignKey(
        Location,
        verbose_name=_("location"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assets",
    )
    manufacturer = models.CharField(_("manufacturer"), max_length=200, blank=True)
    model = models.CharField(_("model"), max_length=200, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=200, blank=True)
    install_date = models.DateField(_("install date"), null=True, blank=True)
    warranty_expiry = models.DateField(_("warranty expiry"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=AssetStatus.choices,
        default=AssetStatus.OPERATIONAL,
        db_index=True,
    )
    notes = models.TextField(_("notes"), blank=True)
    # Relative: TenantFileSystemStorage puts it under MEDIA_ROOT/<schema>/.
    photo = models.ImageField(_("photo"), upload_to="assets/photos/%Y/%m/", blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="components",
    )
    report_token = models.CharField(
        _("report token"), max_length=43, unique=True, default=new_report_token, editable=False
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.asset_tag})"

    def get_absolute_url(self):
        return reverse("assets:detail", args=[self.pk])

    def get_report_path(self):
        return reverse("asset_report", args=[self.report_token])

    def clean(self):
        super().clean()
        errors = {}
        if self.asset_tag:
            self.asset_tag = self.asset_tag.strip()
        if self.install_date and self.warranty_expiry and self.warranty_expiry < self.install_date:
            errors["warranty_expiry"] = _("The warranty cannot expire before the install date.")
        if self.parent_id:
            from assets.selectors import asset_ancestor_ids

            if self.pk and (
                self.parent_id == self.pk or self.pk in asset_ancestor_ids(self.parent_id)
            ):
                errors["parent"] = _(
                    "An asset cannot be part of itself or of one of its own parts."
                )
        if errors:
            raise ValidationError(errors)


class AssetChange(models.Model):
    """One field of one asset changed by someone at some time: the asset audit trail."""

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("updated")
        RETIRED = "retired", _("retired")

    asset = models.ForeignKey(
        Asset, verbose_name=_("asset"), on_delete=models.CASCADE, related_name="changes"
    )
    # Kept when the user is deleted: the trail must outlive its authors.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    field = models.CharField(_("field"), max_length=50, blank=True)
    old_value = models.TextField(_("old value"), blank=True)
    new_value = models.TextField(_("new value"), blank=True)
    changed = models.DateTimeField(_("changed"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("asset change")
        verbose_name_plural = _("asset changes")
        ordering = ["-changed", "-pk"]

    def __str__(self):
        return f"{self.asset_id} {self.action} {self.field}"


# --- Preventive maintenance ---------------------------------------------------
# Services and selectors: assets/maintenance.py; design notes: docs/assets.md.


class Recurrence(models.TextChoices):
    DAYS = "days", _("every N days")
    WEEKS = "weeks", _("every N weeks")
    MONTHS = "months", _("every N months")
    WEEKDAY = "weekday", _("on a weekday, every N weeks")
    DAY_OF_MONTH = "day_of_month", _("on a day of the month, every N months")


class Weekday(models.IntegerChoices):
    # datetime.date.weekday() numbering, so no translation is needed in the maths.
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class MaintenanceSchedule(models.Model):
    """
    A recurring piece of preventive work on an asset, and the template of the
    request filed for each occurrence (title, description, type, priority,
    checklist steps).

    ``interval`` is the "N" of every recurrence kind: every N days, weeks or
    months, on ``weekday`` every N weeks, or on ``day_of_month`` every N
    months. Dates are computed by ``assets.maintenance.occurrences_due``.
    """

    Recurrence = Recurrence

    asset = models.ForeignKey(
        Asset,
        verbose_name=_("asset"),
        on_delete=models.PROTECT,
        related_name="maintenance_schedules",
    )
    title = models.CharField(_("title"), max_length=180)
    description = models.TextField(_("description"), blank=True)
    # The request template: the request types and priorities are the requests
    # app's own, so a schedule can never ask for one that a request refuses.
    request_type = models.CharField(
        _("request type"), max_length=20, choices=RequestType, default=RequestType.GENERAL
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority, default=Priority.MEDIUM
    )
    recurrence = models.CharField(_("recurrence"), max_length=20, choices=Recurrence.choices)
    interval = models.PositiveSmallIntegerField(
        _("every"), default=1, validators=[MinValueValidator(1), MaxValueValidator(366)]
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), choices=Weekday.choices, null=True, blank=True
    )
    day_of_month = models.PositiveSmallIntegerField(
        _("day of month"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(31)],
        help_text=_("Days 29 to 31 fall on the last day of shorter months."),
    )
    starts_on = models.DateField(_("starts on"))
    active = models.BooleanField(_("active"), default=True)
    # The latest due date a request was generated for; generation resumes
    # after it. The unique occurrence row, not this, is what prevents duplicates.
    last_generated_on = models.DateField(
        _("last generated for"), null=True, blank=True, editable=False
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("maintenance schedule")
        verbose_name_plural = _("maintenance schedules")
        ordering = ["asset", "title", "pk"]

    def __str__(self):
        return self.title

    def clean(self):
        super().clean()
        errors = {}
        needs_weekday = self.recurrence == Recurrence.WEEKDAY
        needs_day = self.recurrence == Recurrence.DAY_OF_MONTH
        if needs_weekday and self.weekday is None:
            errors["weekday"] = _("Choose the weekday.")
        elif not needs_weekday and self.weekday is not None:
            errors["weekday"] = _("A weekday only applies to a weekday recurrence.")
        if needs_day and self.day_of_month is None:
            errors["day_of_month"] = _("Choose the day of the month.")
        elif not needs_day and self.day_of_month is not None:
            errors["day_of_month"] = _("A day of the month only applies to that recurrence.")
        if errors:
            raise ValidationError(errors)


class ChecklistStep(models.Model):
    """One step of a schedule's checklist, copied into each occurrence."""

    schedule = models.ForeignKey(
        MaintenanceSchedule,
        verbose_name=_("schedule"),
        on_delete=models.CASCADE,
        related_name="steps",
    )
    order = models.PositiveSmallIntegerField(_("order"))
    text = models.CharField(_("step"), max_length=500)

    class Meta:
        verbose_name = _("checklist step")
        verbose_name_plural = _("checklist steps")
        ordering = ["schedule", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "order"], name="assets_checkliststep_unique_order"
            ),
        ]

    def __str__(self):
        return self.text


class ScheduledOccurrence(models.Model):
    """
    One due date of a schedule and the request generated for it.

    The unique (schedule, due_on) pair is what makes generation idempotent:
    a date can be generated once, whatever runs at the same time. The link
    lives here rather than on the request so that requests stay unaware of
    schedules.
    """

    schedule = models.ForeignKey(
        MaintenanceSchedule,
        verbose_name=_("schedule"),
        # Schedules are deactivated, not deleted: occurrences carry the
        # record of which checklist steps were done, by whom.
        on_delete=models.PROTECT,
        related_name="occurrences",
    )
    due_on = models.DateField(_("due on"))
    request = models.OneToOneField(
        "requests_app.MaintenanceRequest",
        verbose_name=_("request"),
        on_delete=models.PROTECT,
        related_name="scheduled_occurrence",
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("scheduled occurrence")
        verbose_name_plural = _("scheduled occurrences")
        ordering = ["schedule", "due_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "due_on"], name="assets_occurrence_unique_due_on"
            ),
        ]

    def __str__(self):
        return f"{self.schedule} {self.due_on.isoformat()}"


class ChecklistItem(models.Model):
    """
    A checklist step of one occurrence. The text is copied when the request
    is generated, so editing the schedule later does not rewrite what was
    asked, or done, in the past.
    """

    occurrence = models.ForeignKey(
        ScheduledOccurrence,
        verbose_name=_("occurrence"),
        on_delete=models.CASCADE,
        related_name="checklist",
    )
    order = models.PositiveSmallIntegerField(_("order"))
    text = models.CharField(_("step"), max_length=500)
    # Kept when the user is deleted, like the asset audit trail.
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("completed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["occurrence", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["occurrence", "order"], name="assets_checklistitem_unique_order"
            ),
        ]

    def __str__(self):
        return self.text

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None
