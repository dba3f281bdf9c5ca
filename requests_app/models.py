"""
Maintenance requests: the request itself, its per-tenant number, its
type-specific details, its workflow history, comments and field audit trail.

Everything here lives in the tenant's schema. Business rules are in
``services.py`` (writes) and ``selectors.py`` (reads); see docs/requests.md.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Trade

# A request's type is the trade that does the work: technicians see the
# unassigned requests of their trades (accounts.TechnicianTrade).
RequestType = Trade


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Status(models.TextChoices):
    NEW = "new", _("New")
    TRIAGED = "triaged", _("Triaged")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    ON_HOLD = "on_hold", _("On hold")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")
    REOPENED = "reopened", _("Reopened")


# A request in one of these is finished: it no longer runs against its due date.
FINISHED_STATUSES = (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)
OPEN_STATUSES = tuple(status for status in Status if status not in FINISHED_STATUSES)


def overdue_condition(now) -> models.Q:
    """
    The one definition of "overdue": open (not resolved, closed or
    cancelled) and past its due date at ``now``, strictly; no due date is
    never overdue. A condition, for filters and for an aggregate's
    ``filter=`` (the dashboard); ``MaintenanceRequest.objects.overdue(now)``
    is the queryset. ``status IN (open)`` rather than ``NOT IN (finished)``:
    the same rows, and the index on (status, resolved_at) can serve it.
    """
    return models.Q(status__in=OPEN_STATUSES, due_at__lt=now)


class MaintenanceRequestQuerySet(models.QuerySet):
    def overdue(self, now):
        """The requests overdue at ``now`` (see ``overdue_condition``)."""
        return self.filter(overdue_condition(now))


class RequestCounter(models.Model):
    """
    The last request number given out in this tenant: one row, id 1.

    Numbers are taken with ``UPDATE ... RETURNING`` inside the creating
    transaction, so a create that rolls back gives its number back (a
    sequence would not: ``nextval`` is never rolled back) and concurrent
    creates queue on the row lock instead of sharing a number.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="request_counter_one_row")
        ]

    def __str__(self):
        return str(self.last_number)


class RequestSettings(models.Model):
    """
    Per-tenant settings of the request workflow: one row, id 1, created on
    first change. Until then ``selectors.request_settings_get`` returns the
    defaults below, unsaved.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    sla_hours_urgent = models.PositiveIntegerField(
        _("SLA for urgent requests (hours)"), default=4, validators=[MinValueValidator(1)]
    )
    sla_hours_high = models.PositiveIntegerField(
        _("SLA for high priority (hours)"), default=24, validators=[MinValueValidator(1)]
    )
    sla_hours_medium = models.PositiveIntegerField(
        _("SLA for medium priority (hours)"), default=72, validators=[MinValueValidator(1)]
    )
    sla_hours_low = models.PositiveIntegerField(
        _("SLA for low priority (hours)"), default=168, validators=[MinValueValidator(1)]
    )
    auto_close_days = models.PositiveIntegerField(
        _("close resolved requests after (days)"),
        default=7,
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("Empty: resolved requests stay open until someone closes them."),
    )

    class Meta:
        verbose_name = _("request settings")
        verbose_name_plural = _("request settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="request_settings_one_row")
        ]

    def __str__(self):
        return str(_("Request settings"))

    def sla_hours(self, priority) -> int:
        return getattr(self, f"sla_hours_{Priority(priority).value}")


class MaintenanceRequest(models.Model):
    """
    A request for maintenance work.

    Filed by a user (``requester``) or, from an asset's public report page,
    by someone without an account (``reporter_name``/``reporter_contact``).
    Type-specific details live in one of the one-to-one detail tables below.
    ``*_at`` stamps hold the latest time the request entered that stage;
    the full history is in ``RequestTransition``.
    """

    number = models.PositiveIntegerField(_("number"), unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    type = models.CharField(
        _("type"), max_length=20, choices=RequestType, default=RequestType.GENERAL
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority, default=Priority.MEDIUM
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status, default=Status.NEW, editable=False
    )
    # PROTECT: accounts are deactivated, not deleted, and history must keep its people.
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests_filed",
    )
    reporter_name = models.CharField(_("reporter's name"), max_length=150, blank=True)
    reporter_contact = models.CharField(
        _("reporter's contact"), max_length=200, blank=True, help_text=_("E-mail or phone.")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="requests_assigned",
    )
    asset = models.ForeignKey(
        "assets.Asset",
        verbose_name=_("asset"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
    )
    location = models.ForeignKey(
        "assets.Location",
        verbose_name=_("location"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True, editable=False)

    created = models.DateTimeField(
        _("created"), default=timezone.now, db_index=True, editable=False
    )
    updated = models.DateTimeField(_("updated"), auto_now=True)
    triaged_at = models.DateTimeField(_("triaged"), null=True, blank=True, editable=False)
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True, editable=False)
    started_at = models.DateTimeField(_("started"), null=True, blank=True, editable=False)
    on_hold_at = models.DateTimeField(_("put on hold"), null=True, blank=True, editable=False)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True, editable=False)
    reopened_at = models.DateTimeField(_("reopened"), null=True, blank=True, editable=False)

    objects = MaintenanceRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("maintenance request")
        verbose_name_plural = _("maintenance requests")
        ordering = ["-created"]
        # The workflow and visibility rules key on these, not on role names,
        # so a tenant's custom roles take part in the workflow too.
        permissions = [
            ("manage_all_requests", _("Can see every request and triage, assign and steer it")),
            ("work_on_requests", _("Can be assigned requests and work on them")),
        ]
        indexes = [
            models.Index(fields=["status", "resolved_at"], name="request_status_resolved"),
            models.Index(fields=["assignee", "status"], name="request_assignee_status"),
            # Technicians' list: the unassigned requests of their trades.
            models.Index(
                fields=["type", "created"],
                condition=models.Q(assignee__isnull=True),
                name="request_unassigned_type",
            ),
        ]

    def __str__(self):
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return self.format_reference(self.number)

    @staticmethod
    def format_reference(number: int | None) -> str:
        """The number as people see it, ``REQ-000123``."""
        return f"REQ-{number:06d}" if number else "REQ-?"

    @property
    def details(self):
        """The type-specific details row, or None (one query unless select_related)."""
        relation = DETAIL_RELATIONS.get(self.type)
        if relation is None:
            return None
        try:
            return getattr(self, relation)
        except models.ObjectDoesNotExist:
            return None


class ElectricalDetails(models.Model):
    request = models.OneToOneField(
        MaintenanceRequest, on_delete=models.CASCADE, primary_key=True, related_name="electrical"
    )
    voltage = models.PositiveIntegerField(_("voltage (V)"), null=True, blank=True)
    circuit = models.CharField(_("circuit / panel"), max_length=100, blank=True)
    hazard_present = models.BooleanField(_("hazard present"), default=False)

    class Meta:
        verbose_name = _("electrical details")
        verbose_name_plural = _("electrical details")

    def __str__(self):
        return f"{self.request_id}: electrical"


class PlumbingDetails(models.Model):
    class LeakSeverity(models.TextChoices):
        NONE = "none", _("No leak")
        DRIP = "drip", _("Drip")
        STEADY = "steady", _("Steady leak")
        BURST = "burst", _("Burst / flooding")

    request = models.OneToOneField(
        MaintenanceRequest, on_delete=models.CASCADE, primary_key=True, related_name="plumbing"
    )
    leak_severity = models.CharField(
        _("leak severity"), max_length=10, choices=LeakSeverity, default=LeakSeverity.NONE
    )
    water_shutoff_needed = models.BooleanField(_("water shut-off needed"), default=False)
    fixture = models.CharField(_("fixture"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("plumbing details")
        verbose_name_plural = _("plumbing details")

    def __str__(self):
        return f"{self.request_id}: plumbing"


class HvacDetails(models.Model):
    class SystemType(models.TextChoices):
        SPLIT = "split", _("Split system")
        CENTRAL = "central", _("Central air")
        HEAT_PUMP = "heat_pump", _("Heat pump")
        BOILER = "boiler", _("Boiler / furnace")
        CHILLER = "chiller", _("Chiller")
        ROOFTOP = "rooftop", _("Rooftop unit")
        VENTILATION = "ventilation", _("Ventilation")
        OTHER = "other", _("Other")

    request = models.OneToOneField(
        MaintenanceRequest, on_delete=models.CASCADE, primary_key=True, related_name="hvac"
    )
    system_type = models.CharField(
        _("system type"), max_length=20, choices=SystemType, default=SystemType.OTHER
    )
    reported_temperature = models.DecimalField(
        _("reported temperature (°C)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    refrigerant_involved = models.BooleanField(_("refrigerant involved"), default=False)

    class Meta:
        verbose_name = _("HVAC details")
        verbose_name_plural = _("HVAC details")

    def __str__(self):
        return f"{self.request_id}: HVAC"


DETAIL_MODELS = {
    RequestType.ELECTRICAL: ElectricalDetails,
    RequestType.PLUMBING: PlumbingDetails,
    RequestType.HVAC: HvacDetails,
}
DETAIL_RELATIONS = {
    RequestType.ELECTRICAL: "electrical",
    RequestType.PLUMBING: "plumbing",
    RequestType.HVAC: "hvac",
}


class RequestTransition(models.Model):
    """One step of a request's workflow: who moved it from which status to which, and why."""

    request = models.ForeignKey(
        MaintenanceRequest, on_delete=models.CASCADE, related_name="transitions"
    )
    from_status = models.CharField(_("from"), max_length=20, choices=Status, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Status)
    # Empty for the system (automatic closing) and for anonymous public reports.
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("request transition")
        verbose_name_plural = _("request transitions")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.from_status or '∅'} → {self.to_status}"


class RequestComment(models.Model):
    request = models.ForeignKey(
        MaintenanceRequest, on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    body = models.TextField(_("comment"))
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created", "pk"]

    def __str__(self):
        return f"{self.author_id} on {self.request_id}"


class RequestChange(models.Model):
    """Audit trail: one changed field of one request, written by the services."""

    request = models.ForeignKey(
        MaintenanceRequest, on_delete=models.CASCADE, related_name="changes"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    field = models.CharField(_("field"), max_length=50)
    old_value = models.TextField(_("old value"), blank=True)
    new_value = models.TextField(_("new value"), blank=True)

    class Meta:
        verbose_name = _("request change")
        verbose_name_plural = _("request changes")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.field}: {self.old_value!r} → {self.new_value!r}"


class SlaBreachNotice(models.Model):
    """
    Record that a request's SLA breach was e-mailed, so that
    ``notifications.requests_notify_sla_breaches`` tells people once per
    request however often it runs. ``due_at`` is the due date that was
    missed: if the due date moves later (a new priority), a new breach is
    notified again.
    """

    request = models.OneToOneField(
        MaintenanceRequest,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="sla_breach_notice",
    )
    due_at = models.DateTimeField(_("due date missed"))
    notified_at = models.DateTimeField(_("notified"), default=timezone.now)

    class Meta:
        verbose_name = _("SLA breach notice")
        verbose_name_plural = _("SLA breach notices")

    def __str__(self):
        return f"{self.request_id}: breach of {self.due_at:%Y-%m-%d %H:%M} notified"


class DashboardRollupState(models.Model):
    """
    Whether the dashboard rollup below can be trusted, and in which time zone
    its months are cut: one row, id 1.

    ``timezone`` empty means "nothing counted yet": the first write binds it
    to the tenant's zone (a new tenant's schema is a copy of the template's,
    which has this row and no requests). A zone other than the tenant's (it
    was changed) makes the dashboard fall back to live queries until
    ``manage.py rebuild_dashboard_rollup`` recounts. Writers read the row
    ``FOR KEY SHARE`` and a rebuild locks it ``FOR UPDATE``, so a rebuild
    never interleaves with a write. See requests_app/dashboard/rollup.py.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    timezone = models.CharField(_("time zone"), max_length=64, blank=True)
    rebuilt_at = models.DateTimeField(_("rebuilt"), null=True, blank=True)

    class Meta:
        verbose_name = _("dashboard rollup state")
        verbose_name_plural = _("dashboard rollup state")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="dashboard_rollup_state_one_row")
        ]

    def __str__(self):
        return self.timezone or "unbound"


class RequestMonthlyCount(models.Model):
    """
    Requests filed in a calendar month (in the tenant's time zone) with a given
    status, type and priority as they are now, with the sums behind the mean
    times to acknowledge and to resolve. Kept by the services in the writing
    transaction (requests_app/dashboard/rollup.py), so the dashboard of a lead reads at
    most 144 rows a month instead of every request of the window.

    Counts are signed on purpose: a row is only ever changed by adding, and a
    check constraint failing inside a user's write would be worse than a
    figure a rebuild repairs.
    """

    month = models.DateField(_("month"))
    status = models.CharField(_("status"), max_length=20, choices=Status)
    type = models.CharField(_("type"), max_length=20, choices=RequestType)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority)
    requests = models.IntegerField(_("requests"), default=0)
    # Microseconds, summed over the requests that have the stamp; numeric,
    # since years of microseconds over many requests would overflow a bigint.
    acknowledged = models.IntegerField(_("acknowledged"), default=0)
    acknowledge_us = models.DecimalField(max_digits=30, decimal_places=0, default=0)
    resolved = models.IntegerField(_("resolved"), default=0)
    resolve_us = models.DecimalField(max_digits=30, decimal_places=0, default=0)

    class Meta:
        verbose_name = _("monthly request count")
        verbose_name_plural = _("monthly request counts")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "status", "type", "priority"], name="request_monthly_count_key"
            )
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.status}/{self.type}/{self.priority}: {self.requests}"


class AssetMonthlyCount(models.Model):
    """Requests filed in a calendar month about an asset: the dashboard's top assets."""

    month = models.DateField(_("month"))
    asset = models.ForeignKey(
        "assets.Asset", verbose_name=_("asset"), on_delete=models.CASCADE, related_name="+"
    )
    requests = models.IntegerField(_("requests"), default=0)

    class Meta:
        verbose_name = _("monthly asset count")
        verbose_name_plural = _("monthly asset counts")
        constraints = [
            models.UniqueConstraint(fields=["month", "asset"], name="asset_monthly_count_key")
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} asset {self.asset_id}: {self.requests}"
