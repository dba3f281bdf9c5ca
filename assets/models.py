"""
Locations and assets of one tenant.

Business rules (kind hierarchy, cycles, audit) are enforced by the model's
``clean`` methods and by ``assets.services``, the single write path.
Preventive maintenance (schedules, checklists) is the ``preventive`` app's.
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

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
        # A part of itself (a cycle) takes a query up the chain:
        # assets.services checks it, with assets.selectors.asset_ancestor_ids.
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
