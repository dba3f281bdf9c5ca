from django import forms
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text=_("The 6 digits your authenticator app shows, or one of your recovery codes."),
    )


class RequirementForm(forms.Form):
    required = forms.BooleanField(
        label=_("Require two-factor authentication of every admin"), required=False
    )
