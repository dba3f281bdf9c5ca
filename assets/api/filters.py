"""Query filters of the assets API; a bad value is a 400 naming the filter."""

import django_filters

from assets.models import Asset, AssetStatus, Location
from assets.selectors import AssetFilter


class AssetAPIFilter(AssetFilter):
    """
    The staff list's filters (status, category, location with everything
    inside it, include_retired; retired assets are hidden unless asked for or
    filtered on), plus ``parent`` and ``warranty_expires_before``. Free-text
    search is the ``search`` parameter, ordering ``ordering``.
    """

    # The staff form's "q" is the API's "search" (SearchFilter); None drops it.
    q = None
    status = django_filters.ChoiceFilter(choices=AssetStatus.choices)
    # A plain queryset rather than the staff form's callable, so the schema
    # can tell the type of the id.
    location = django_filters.ModelChoiceFilter(
        queryset=Location.objects.all(),
        method="filter_location",
        label="Location (and everything inside it)",
    )
    parent = django_filters.ModelChoiceFilter(queryset=Asset.objects.all(), label="Part of")
    warranty_expires_before = django_filters.DateFilter(
        field_name="warranty_expiry", lookup_expr="lt", label="Warranty expires before"
    )
    include_retired = django_filters.BooleanFilter(
        method="filter_include_retired", label="Include retired"
    )

    class Meta:
        model = Asset
        fields = [
            "status",
            "category",
            "location",
            "parent",
            "warranty_expires_before",
            "include_retired",
        ]
