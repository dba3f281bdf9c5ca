"""Forms of the schedule pages: input parsing only; preventive.services decides."""

from django import forms
from django.utils.translation import gettext_lazy as _

from assets.models import Asset, AssetStatus
from preventive.models import ChecklistStep, MaintenanceSchedule

# The schedule's own fields the form edits; "active" has its pause/resume buttons.
FORM_FIELDS = [
    "title",
    "description",
    "request_type",
    "priority",
    "recurrence",
    "interval",
    "weekday",
    "day_of_month",
    "starts_on",
]


class ScheduleForm(forms.ModelForm):
    """
    A schedule and its checklist, one step per line (the service takes the
    texts in order and drops blank ones). The asset is chosen on creation
    only: a schedule stays with its asset.
    """

    asset = forms.ModelChoiceField(queryset=Asset.objects.none(), label=_("Asset"))
    steps = forms.CharField(
        label=_("Checklist"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("One step per line, in order. Each request filed gets a copy to tick off."),
    )

    class Meta:
        model = MaintenanceSchedule
        fields = FORM_FIELDS
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "starts_on": forms.DateInput(attrs={"type": "date"}),
        }
        help_texts = {
            "interval": _("The N of the recurrence: every N days, weeks or months."),
            "weekday": _("Only for a weekday recurrence."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["asset"]
            self.initial.setdefault(
                "steps", "\n".join(step.text for step in self.instance.steps.all())
            )
        else:
            self.fields["asset"].queryset = Asset.objects.exclude(
                status=AssetStatus.RETIRED
            ).order_by("name")
            self.order_fields(["asset", *FORM_FIELDS])

    def clean_steps(self):
        steps = [line.strip() for line in self.cleaned_data["steps"].splitlines() if line.strip()]
        limit = ChecklistStep._meta.get_field("text").max_length
        too_long = [number for number, text in enumerate(steps, 1) if len(text) > limit]
        if too_long:
            raise forms.ValidationError(
                _("Step %(number)s is longer than %(limit)s characters."),
                params={"number": too_long[0], "limit": limit},
            )
        return steps

    def _post_clean(self):
        # The service runs full_clean on the schedule it builds: validating an
        # instance here too would check it without its asset.
        pass

    def service_fields(self) -> dict:
        """The schedule's fields as the services take them."""
        return {name: self.cleaned_data[name] for name in FORM_FIELDS}
