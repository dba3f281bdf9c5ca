"""Forms of the staff UI; they only collect input, the services decide."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from assets.models import Asset, Location
from requests_app.models import Priority, RequestType, Status


class RequestCreateForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    type = forms.ChoiceField(
        label=_("Type"), choices=RequestType.choices, initial=RequestType.GENERAL
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.MEDIUM
    )
    asset = forms.ModelChoiceField(label=_("Asset"), queryset=Asset.objects.all(), required=False)
    location = forms.ModelChoiceField(
        label=_("Location"),
        queryset=Location.objects.all(),
        required=False,
        help_text=_("Leave empty to use the asset's location."),
    )


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=Status.choices, widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    assignee = forms.IntegerField(required=False, widget=forms.HiddenInput)


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}))


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
        """The arguments of services.request_report_problem (the honeypot left out)."""
        fields = ("reporter_name", "reporter_contact", "title", "description")
        return {name: self.cleaned_data[name] for name in fields}
