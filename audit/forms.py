from django import forms
from django.utils.translation import gettext_lazy as _

from audit.models import Action


class AuditFilterForm(forms.Form):
    """The audit page's filters, read from the query string."""

    actor = forms.CharField(label=_("Actor"), required=False, max_length=254)
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any action")), *Action.choices]
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end date is before the start date."))
        return data
