"""Forms of the organisation's settings pages: input parsing only; rules are in services."""

import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from requests_app.models import RequestSettings


def timezone_choices():
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Organisation name"), max_length=200)
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        choices=timezone_choices,
        help_text=_("Times on every page and in e-mails are shown in this zone."),
    )
    contact_name = forms.CharField(label=_("Contact name"), max_length=150, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False)
    billing_email = forms.EmailField(
        label=_("Contact e-mail"),
        required=False,
        help_text=_("Where the platform sends invoices and notices about your account."),
    )


class BrandingForm(forms.Form):
    primary_color = forms.CharField(
        label=_("Primary colour"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_(
            "The header, buttons and links take this colour. White text must stay "
            "readable on it (contrast at least 4.5:1)."
        ),
    )
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/png,image/jpeg,image/webp,image/gif"}
        ),
        help_text=_("PNG, JPEG, WebP or GIF, at most 1 MB; shown in the header at 32 px high."),
    )
    remove_logo = forms.BooleanField(label=_("Remove the current logo"), required=False)


class RequestSettingsForm(forms.ModelForm):
    """SLA hours by priority and the auto-close delay; the service validates the values."""

    class Meta:
        model = RequestSettings
        fields = [
            "sla_hours_urgent",
            "sla_hours_high",
            "sla_hours_medium",
            "sla_hours_low",
            "auto_close_days",
        ]
