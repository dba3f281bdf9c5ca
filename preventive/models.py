"""
Preventive maintenance: recurring schedules of work on assets, the
occurrence (and request) generated for each due date, and its checklist.

Services: ``preventive.services``; reads: ``preventive.selectors``; date
arithmetic: ``preventive.recurrence``. Design notes: docs/assets.md.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from requests_app.models import Priority, RequestType


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
    months. Dates are computed by ``preventive.recurrence.occurrences_due``.
    """

    Recurrence = Recurrence

    asset = models.ForeignKey(
        "assets.Asset",
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
        # The table assets created before the model moved here.
        db_table = "assets_maintenanceschedule"
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
        # The table assets created before the model moved here.
        db_table = "assets_checkliststep"
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
        # The table assets created before the model moved here.
        db_table = "assets_scheduledoccurrence"
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
        # The table assets created before the model moved here.
        db_table = "assets_checklistitem"
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
