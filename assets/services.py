"""Writes for assets."""

from django.db import transaction

from assets.models import Asset
from tenants import limits
from tenants.selectors import current_tenant


@transaction.atomic
def asset_create(*, name: str, asset_tag: str, **fields) -> Asset:
    asset = Asset(name=name, asset_tag=asset_tag, **fields)
    asset.full_clean()
    limits.reserve(current_tenant(), limits.Resource.ASSETS)
    asset.save()
    return asset
