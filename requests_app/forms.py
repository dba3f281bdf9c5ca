"""Forms of the staff UI; they only collect input, the services decide."""

from django import forms
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
