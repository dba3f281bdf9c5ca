"""
Writes for locations and assets: the single write path, so every rule and
every audit entry applies to the web UI, the API, admin and commands alike.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Value
from django.db.models.fields.files import FieldFile
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from assets.models import PATH_SEPARATOR, Asset, AssetChange, AssetStatus, Location, path_segment
from assets.selectors import asset_ancestor_ids
from billing import limits
from tenants.selectors import current_tenant

# --- Locations ---------------------------------------------------------------

LOCATION_FIELDS = ("name", "kind", "parent", "address", "notes")


def _locked(model, pk):
    return model.objects.select_for_update().get(pk=pk)


@transaction.atomic
def location_create(
    *, name: str, kind: str, parent: Location | None = None, address: str = "", notes: str = ""
) -> Location:
    """Create a location under ``parent`` (None for a site)."""
    if parent is not None:
        # Locked so that a concurrent move cannot leave us with its old path.
        parent = _locked(Location, parent.pk)
    location = Location(name=name, kind=kind, parent=parent, address=address, notes=notes)
    location.full_clean()
    location.save()
    # The path ends with our own key, known only now.
    location.path = (parent.path if parent else PATH_SEPARATOR) + path_segment(location.pk)
    location.save(update_fields=["path"])
    return location


@transaction.atomic
def location_update(*, location: Location, data: dict) -> Location:
    """
    Change a location's fields; a new ``parent`` moves it with everything
    inside it (one UPDATE rewrites the subtree's paths).
    """
    unknown = set(data) - set(LOCATION_FIELDS)
    if unknown:
        raise TypeError(f"location_update() got unexpected fields: {sorted(unknown)}")
    location = _locked(Location, location.pk)
    old_parent_id = location.parent_id
    for field, value in data.items():
        setattr(location, field, value)
    location.full_clean()
    location.save()
    if location.parent_id != old_parent_id:
        parent = _locked(Location, location.parent_id) if location.parent_id else None
        old_path = location.path
        new_path = (parent.path if parent else PATH_SEPARATOR) + path_segment(location.pk)
        Location.objects.filter(path__startswith=old_path).update(
            path=Concat(Value(new_path), Substr("path", len(old_path) + 1))
        )
        location.refresh_from_db(fields=["path"])
    return location


# --- Assets ------------------------------------------------------------------

# What staff may change with asset_update, and what the audit trail follows.
ASSET_FIELDS = (
    "name",
    "asset_tag",
    "category",
    "location",
    "manufacturer",
    "model",
    "serial_number",
    "install_date",
    "warranty_expiry",
    "status",
    "notes",
    "photo",
    "parent",
)


def _audit_value(asset: Asset, field_name: str) -> str:
    """A field's value as the audit trail stores it: readable, and stable over time."""
    field = Asset._meta.get_field(field_name)
    if field.is_relation:
        related = getattr(asset, field_name)
        return "" if related is None else f"{related} [#{related.pk}]"
    value = getattr(asset, field.attname)
    if value is None:
        return ""
    if isinstance(value, FieldFile):
        return value.name or ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _snapshot(asset: Asset) -> dict[str, str]:
    return {field: _audit_value(asset, field) for field in ASSET_FIELDS}


def _refuse_retiring_here(status) -> None:
    # Retiring is its own step (asset_retire), which the audit trail records as such.
    if status == AssetStatus.RETIRED:
        raise ValidationError(
            {"status": _("Retire an asset with its own action, not by editing its status.")},
            code="retire_separately",
        )


def _refuse_part_of_itself(asset: Asset) -> None:
    # Only an existing asset can be its own ancestor: a new one has no parts yet.
    if asset.parent_id and (
        asset.parent_id == asset.pk or asset.pk in asset_ancestor_ids(asset.parent_id)
    ):
        raise ValidationError(
            {"parent": _("An asset cannot be part of itself or of one of its own parts.")},
            code="asset_cycle",
        )


@transaction.atomic
def asset_create(*, name: str, asset_tag: str, user=None, **fields) -> Asset:
    """Create an asset; counts against the plan's asset limit."""
    _refuse_retiring_here(fields.get("status"))
    asset = Asset(name=name, asset_tag=asset_tag, **fields)
    asset.full_clean()
    limits.reserve(current_tenant(), limits.Resource.ASSETS)
    asset.save()
    AssetChange.objects.create(asset=asset, user=user, action=AssetChange.Action.CREATED)
    return asset


@transaction.atomic
def asset_update(*, asset: Asset, user, data: dict, action=AssetChange.Action.UPDATED) -> Asset:
    """
    Change the fields in ``data`` and record one AssetChange per field whose
    value really changed (old and new value, ``user``, time). Returns the
    saved asset; the one passed in is not modified.
    """
    unknown = set(data) - set(ASSET_FIELDS)
    if unknown:
        raise TypeError(f"asset_update() got unexpected fields: {sorted(unknown)}")
    # Compared against the row as stored, not the caller's copy, which a
    # ModelForm may already have changed; the lock keeps two editors' trails
    # in order.
    stored = _locked(Asset, asset.pk)
    if action != AssetChange.Action.RETIRED and stored.status != AssetStatus.RETIRED:
        _refuse_retiring_here(data.get("status"))
    before = _snapshot(stored)
    for field, value in data.items():
        setattr(stored, field, value)
    _refuse_part_of_itself(stored)
    stored.full_clean()
    stored.save()
    after = _snapshot(stored)
    AssetChange.objects.bulk_create(
        AssetChange(
            asset=stored,
            user=user,
            action=action,
            field=field,
            old_value=before[field],
            new_value=after[field],
        )
        for field in ASSET_FIELDS
        if before[field] != after[field]
    )
    return stored


def asset_retire(*, asset: Asset, user) -> Asset:
    """
    Take an asset out of use for good. It stays, with its history and
    requests, but is hidden from lists by default and takes no more reports.
    """
    if asset.status == AssetStatus.RETIRED:
        raise ValidationError(_("This asset is already retired."), code="already_retired")
    return asset_update(
        asset=asset,
        user=user,
        data={"status": AssetStatus.RETIRED},
        action=AssetChange.Action.RETIRED,
    )
