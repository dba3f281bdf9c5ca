"""Forms of the asset pages: input parsing only; rules live in the models and services."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
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


_PHONE = re.compile(r"^\+?[\d\s().-]{6,30}$")


class ProblemReportForm(forms.Form):
    """The public "report a problem" form behind an asset's QR code."""

    reporter_name = forms.CharField(label=_("Your name"), max_length=150)
    reporter_contact = forms.CharField(
        label=_("E-mail or phone"),
        max_length=200,
        help_text=_("So that we can ask you about it, and tell you when it is fixed."),
    )
    title = forms.CharField(label=_("What is wrong?"), max_length=200)
    description = forms.CharField(
        label=_("Details"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    # Honeypot: hidden from people by CSS (not type=hidden, which bots skip);
    # anything typed into it marks the submission as automated.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_reporter_contact(self):
        contact = self.cleaned_data["reporter_contact"].strip()
        if "@" in contact:
            validate_email(contact)
        elif not _PHONE.match(contact) or sum(c.isdigit() for c in contact) < 6:
            raise ValidationError(_("Enter an e-mail address or a phone number."), code="invalid")
        return contact

    def clean(self):
        cleaned_data = super().clean()
        # A non-field error: the field itself is invisible to the person reading.
        if cleaned_data.get("website"):
            raise ValidationError(_("This report looks automated and was not sent."), code="spam")
        return cleaned_data

    def cleaned_data_for_service(self) -> dict:
        """The arguments of services.asset_report_problem (the honeypot left out)."""
        fields = ("reporter_name", "reporter_contact", "title", "description")
        return {name: self.cleaned_data[name] for name in fields}


class AttachmentForm(forms.Form):
    """One file for an asset; size and type are checked by requests_app.attachments."""

    file = forms.FileField(
        label=_("File"),
        error_messages={"required": _("Choose a file to attach.")},
        widget=forms.ClearableFileInput(
            attrs={"accept": ".jpg,.jpeg,.png,.gif,.webp,.pdf,.txt,.csv"}
        ),
    )
