"""Forms of the asset pages: input parsing only; rules live in the models and services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from assets.models import Asset, Location
from assets.selectors import location_parent_choices, location_tree

INDENT = "\u00a0\u00a0"  # non-breaking: browsers collapse ordinary spaces in <option>


class IndentedLocationChoiceField(forms.ModelChoiceField):
    """Locations as an indented tree, from one query over the materialised path."""

    def label_from_instance(self, obj):
        return f"{INDENT * obj.depth}{obj.name} ({obj.get_kind_display()})"


class LocationForm(forms.ModelForm):
    parent = IndentedLocationChoiceField(queryset=Location.objects.none(), required=False)

    class Meta:
        model = Location
        fields = ["name", "kind", "parent", "address", "notes"]
        widgets = {
            "address": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = location_parent_choices(exclude=self.instance)


class AssetForm(forms.ModelForm):
    location = IndentedLocationChoiceField(queryset=Location.objects.none(), required=False)

    class Meta:
        model = Asset
        fields = [
            "name",
            "asset_tag",
            "category",
            "status",
            "location",
            "parent",
            "manufacturer",
            "model",
            "serial_number",
            "install_date",
            "warranty_expiry",
            "photo",
            "notes",
        ]
        widgets = {
            "install_date": forms.DateInput(attrs={"type": "date"}),
            "warranty_expiry": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 4}),
            "category": forms.TextInput(attrs={"list": "asset-categories"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = location_tree()
        parents = Asset.objects.exclude(status=Asset.Status.RETIRED).order_by("name")
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents
        if self.instance.status != Asset.Status.RETIRED:
            # Retiring has its own button, which the audit trail records as such.
            self.fields["status"].choices = [
                choice
                for choice in self.fields["status"].choices
                if choice[0] != Asset.Status.RETIRED
            ]

    def service_data(self) -> dict:
        """The changed fields, as asset_create/asset_update take them."""
        data = {name: self.cleaned_data[name] for name in self.changed_data}
        if data.get("photo") is False:  # "clear" ticked
            data["photo"] = ""
        return data


class AttachmentForm(forms.Form):
    """One file for an asset; size and type are checked by attachments.services."""

    file = forms.FileField(
        label=_("File"),
        error_messages={"required": _("Choose a file to attach.")},
        widget=forms.ClearableFileInput(
            attrs={"accept": ".jpg,.jpeg,.png,.gif,.webp,.pdf,.txt,.csv"}
        ),
    )


class LabelSheetForm(forms.Form):
    """The assets ticked on the list whose QR labels to print."""

    MAX_LABELS = 21 * 10  # ten A4 sheets of 21

    asset = forms.TypedMultipleChoiceField(
        coerce=int,
        error_messages={"required": _("Tick the assets to print labels for.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id is acceptable input; ids of no asset are simply not printed.
        self.fields["asset"].valid_value = lambda value: str(value).isdigit()

    def clean_asset(self):
        ids = list(dict.fromkeys(self.cleaned_data["asset"]))
        if len(ids) > self.MAX_LABELS:
            raise forms.ValidationError(
                _("At most %(max)s labels at a time."), params={"max": self.MAX_LABELS}
            )
        return ids
