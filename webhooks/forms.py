from django import forms

from requests_app.events import EventKind
from webhooks.models import WebhookEndpoint


class EndpointForm(forms.ModelForm):
    # A URL typed without a scheme is meant as https (the only one production accepts).
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text="Must be https:// and reachable from the internet.",
    )
    # A checkbox per kind; none ticked means every kind (see WebhookEndpoint.events).
    events = forms.MultipleChoiceField(
        choices=EventKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick none to receive every event, including kinds added later.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events", "is_active"]
