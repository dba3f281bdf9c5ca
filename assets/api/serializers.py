"""
Serializers of the assets API. Input and output are separate classes: the
input ones only validate the shape of a call (the rules live in the services,
whose ValidationErrors the exception handler maps to the same 400 format);
the output ones only render, from rows the views have already joined or
prefetched, so a page costs the same number of queries whatever its size.
"""

from django.urls import reverse
from rest_framework import serializers

from assets.models import Asset, AssetChange, Location
from assets.selectors import location_tree
from assets.services import ASSET_FIELDS
from attachments.api.serializers import AttachmentSerializer

# --- Locations -------------------------------------------------------------------


class LocationListSerializer(serializers.ListSerializer):
    """Looks up every ancestor name of the page in one query, for the children's ``path``."""

    def to_representation(self, data):
        locations = list(data.all() if hasattr(data, "all") else data)
        ids = {pk for location in locations for pk in location.ancestor_ids}
        self.child.ancestor_names = dict(
            Location.objects.filter(pk__in=ids).values_list("pk", "name")
        )
        return [self.child.to_representation(location) for location in locations]


class LocationSerializer(serializers.ModelSerializer):
    path = serializers.SerializerMethodField(
        help_text="The names from the top-level site down to this location, itself included."
    )
    depth = serializers.IntegerField(read_only=True, help_text="0 for a top-level site.")

    ancestor_names = None  # set by LocationListSerializer for a whole page

    class Meta:
        model = Location
        fields = [
            "id",
            "name",
            "kind",
            "parent",
            "path",
            "depth",
            "address",
            "notes",
            "created",
            "updated",
        ]
        list_serializer_class = LocationListSerializer

    def get_path(self, location) -> list[str]:
        names = self.ancestor_names
        if names is None:  # a single location: one query for its ancestors
            names = dict(
                Location.objects.filter(pk__in=location.ancestor_ids).values_list("pk", "name")
            )
        return [*(names[pk] for pk in location.ancestor_ids if pk in names), location.name]


class LocationInputSerializer(serializers.ModelSerializer):
    """The writable fields; the tree rules (kind order, no cycles) are the service's."""

    parent = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Location
        fields = ["name", "kind", "parent", "address", "notes"]
        # The unique (parent, name) rule is checked by the model, through the service.
        validators = []


# --- Assets ----------------------------------------------------------------------


class LocationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


def _absolute(request, url: str) -> str:
    return request.build_absolute_uri(url) if request is not None else url


class AssetSerializer(serializers.ModelSerializer):
    location = LocationRefSerializer(read_only=True, allow_null=True)
    photo_url = serializers.SerializerMethodField()
    qr_svg_url = serializers.SerializerMethodField()
    qr_png_url = serializers.SerializerMethodField()
    report_url = serializers.SerializerMethodField(
        help_text="The public 'report a problem' page the QR code opens."
    )

    class Meta:
        model = Asset
        fields = [
            "id",
            "name",
            "asset_tag",
            "status",
            "category",
            "location",
            "parent",
            "manufacturer",
            "model",
            "serial_number",
            "install_date",
            "warranty_expiry",
            "notes",
            "photo_url",
            "qr_svg_url",
            "qr_png_url",
            "report_url",
            "created",
            "updated",
        ]

    def get_photo_url(self, asset) -> str | None:
        if not asset.photo:
            return None
        return _absolute(self.context.get("request"), asset.photo.url)

    def get_qr_svg_url(self, asset) -> str:
        return _absolute(self.context.get("request"), reverse("assets:qr_svg", args=[asset.pk]))

    def get_qr_png_url(self, asset) -> str:
        return _absolute(self.context.get("request"), reverse("assets:qr_png", args=[asset.pk]))

    def get_report_url(self, asset) -> str:
        return _absolute(self.context.get("request"), asset.get_report_path())


class AssetInputSerializer(serializers.ModelSerializer):
    """The fields assets.services writes. ``status`` cannot become retired here: use ``retire``."""

    location = serializers.PrimaryKeyRelatedField(
        queryset=location_tree(), allow_null=True, required=False
    )
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Asset.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = Asset
        fields = list(ASSET_FIELDS)
        extra_kwargs = {"photo": {"required": False}}


class AssetChangeSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(
        slug_field="email",
        read_only=True,
        allow_null=True,
        help_text="Who made the change (e-mail), if known.",
    )

    class Meta:
        model = AssetChange
        fields = ["id", "action", "field", "old_value", "new_value", "user", "changed"]


class AssetAttachmentSerializer(AttachmentSerializer):
    """
    The attachment serializer, as the asset endpoints have always answered:
    the uploader by e-mail, and the download under the asset's URL.
    """

    uploaded_by = serializers.SlugRelatedField(slug_field="email", read_only=True)

    def get_download_url(self, attachment) -> str:
        url = reverse("api:asset-attachment-download", args=[attachment.asset_id, attachment.pk])
        return _absolute(self.context.get("request"), url)
