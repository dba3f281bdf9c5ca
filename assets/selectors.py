"""Reads for locations and assets. Each function costs a fixed number of queries."""

import django_filters
from django import forms
from django.db import connection
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from assets.models import Asset, AssetChange, AssetStatus, Location

# --- Locations ---------------------------------------------------------------


def asset_count(tenant=None, now=None) -> int:
    """Every asset, retired ones included: what the plan's max_assets caps."""
    return Asset.objects.count()


def location_tree() -> QuerySet[Location]:
    """
    Every location, parents right before their children (pre-order), in one
    query: ordering by the fixed-width materialised path gives that for free.
    Siblings come in the order they were created. ``depth`` gives the indent.
    """
    return Location.objects.order_by("path")


def location_get(*, pk) -> Location:
    return get_object_or_404(Location, pk=pk)


def location_path(location: Location) -> list[Location]:
    """The location's ancestors from the top down, and the location itself: one query."""
    ids = [*location.ancestor_ids, location.pk]
    by_id = Location.objects.in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]


def location_path_display(location: Location | None, separator=" \u203a ") -> str:
    if location is None:
        return ""
    return separator.join(place.name for place in location_path(location))


def location_subtree(location: Location, *, include_self=True) -> QuerySet[Location]:
    """The location and everything inside it, at any depth: one indexed query."""
    subtree = Location.objects.filter(path__startswith=location.path).order_by("path")
    return subtree if include_self else subtree.exclude(pk=location.pk)


def location_parent_choices(*, exclude: Location | None = None) -> QuerySet[Location]:
    """Locations that may hold others (not rooms), minus ``exclude``'s own subtree."""
    choices = location_tree().exclude(kind=Location.Kind.ROOM)
    if exclude is not None and exclude.pk:
        choices = choices.exclude(path__startswith=exclude.path)
    return choices


# --- Assets ------------------------------------------------------------------


class AssetFilter(django_filters.FilterSet):
    """The filters of ``asset_list``; the staff list page renders its form."""

    q = django_filters.CharFilter(method="filter_search", label="Search")
    status = django_filters.ChoiceFilter(choices=AssetStatus.choices)
    category = django_filters.CharFilter(
        field_name="category",
        lookup_expr="iexact",
        # The list page offers the categories in use (a <datalist> of this id).
        widget=forms.TextInput(attrs={"list": "asset-categories"}),
    )
    location = django_filters.ModelChoiceFilter(
        queryset=lambda request: location_tree(),
        method="filter_location",
        label="Location (and inside it)",
    )
    include_retired = django_filters.BooleanFilter(
        method="filter_include_retired", label="Include retired"
    )

    class Meta:
        model = Asset
        fields = ["q", "status", "category", "location"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value)
            | Q(asset_tag__icontains=value)
            | Q(serial_number__icontains=value)
            | Q(manufacturer__icontains=value)
            | Q(model__icontains=value)
        )

    def filter_location(self, queryset, name, value):
        return queryset.filter(location__path__startswith=value.path)

    def filter_include_retired(self, queryset, name, value):
        return queryset

    @property
    def qs(self):
        queryset = super().qs
        data = self.form.cleaned_data if self.is_bound and self.form.is_valid() else {}
        # Retired assets are history: hidden unless asked for or filtered on.
        if not data.get("include_retired") and not data.get("status"):
            queryset = queryset.exclude(status=AssetStatus.RETIRED)
        return queryset


def asset_list(*, filters=None) -> QuerySet[Asset]:
    """
    Assets matching ``filters`` (``q``, ``status``, ``category``,
    ``location`` — which includes everything inside it — and
    ``include_retired``), with location and parent joined in.
    """
    queryset = Asset.objects.select_related("location", "parent")
    return AssetFilter(filters or {}, queryset=queryset).qs


def asset_list_by_ids(ids) -> list[Asset]:
    """The assets with these ids, in that order (unknown ids left out), with location: one query."""
    by_id = Asset.objects.select_related("location").in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]


def asset_get(*, pk) -> Asset:
    return get_object_or_404(Asset.objects.select_related("location", "parent"), pk=pk)


def asset_get_by_report_token(*, token: str) -> Asset:
    """The asset a QR code points at; 404 for an unknown token (in this tenant)."""
    return get_object_or_404(Asset.objects.select_related("location"), report_token=token)


def asset_categories() -> list[str]:
    """Categories in use, for the form's suggestions."""
    return list(
        Asset.objects.exclude(category="")
        .order_by("category")
        .values_list("category", flat=True)
        .distinct()
    )


def asset_ancestor_ids(asset_id: int) -> list[int]:
    """
    The asset and every asset it is part of, up the chain, in one recursive
    query. Bounded by the table size, so even corrupt data cannot loop.
    """
    table = connection.ops.quote_name(Asset._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE chain(id, parent_id) AS (
                SELECT id, parent_id FROM {table} WHERE id = %s
                UNION
                SELECT a.id, a.parent_id FROM {table} a JOIN chain c ON a.id = c.parent_id
            )
            SELECT id FROM chain
            """,  # noqa: S608 -- the table name is ours, the value a parameter
            [asset_id],
        )
        return [row[0] for row in cursor.fetchall()]


def asset_is_visible_to(asset: Asset, user) -> bool:
    """Whoever may view assets sees every asset, and so its files."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.has_perm("assets.view_asset")
    )


def asset_changes(*, asset: Asset) -> QuerySet[AssetChange]:
    """The asset's audit trail, newest first, with who made each change."""
    return asset.changes.select_related("user")
