"""Forms of the staff UI; they only collect input, the services decide."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from assets.models import Asset, AssetStatus, Location
from requests_app.filters import RequestFilter
from requests_app.models import (
    ElectricalDetails,
    HvacDetails,
    PlumbingDetails,
    Priority,
    RequestType,
    Status,
)


def _asset_choices():
    # Retired assets take no new work.
    return Asset.objects.exclude(status=AssetStatus.RETIRED).order_by("name", "pk")


class RequestEditForm(forms.Form):
    """What may change once a request is filed (services.UPDATABLE_FIELDS)."""

    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.MEDIUM
    )
    asset = forms.ModelChoiceField(label=_("Asset"), queryset=Asset.objects.none(), required=False)
    location = forms.ModelChoiceField(
        label=_("Location"),
        queryset=Location.objects.all(),
        required=False,
        help_text=_("Leave empty to use the asset's location."),
    )

    field_order = ["title", "type", "priority", "asset", "location", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["asset"].queryset = _asset_choices()


class RequestCreateForm(RequestEditForm):
    type = forms.ChoiceField(
        label=_("Type"),
        choices=RequestType.choices,
        initial=RequestType.GENERAL,
        help_text=_("Electrical, plumbing and HVAC requests ask for a few more details."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # static/js/request_form.js shows the chosen type's details.
        self.fields["type"].widget.attrs["data-request-type-select"] = ""


class DetailsForm(forms.ModelForm):
    """
    The details of one request type, collected as they are typed; the
    service (``_details_build``) is what checks them, for the API as here.
    Prefixed with the type, so each type's fields have names of their own.
    """

    # The fieldsets of the other types are hidden, not removed: the browser
    # must not insist on a field the user cannot see.
    use_required_attribute = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A field the model gives a default (leak severity "no leak"...) may
        # be left out, as through the API.
        for name, field in self.fields.items():
            if self._meta.model._meta.get_field(name).has_default():
                field.required = False

    def details(self) -> dict:
        """The ``details`` argument of request_create / request_update."""
        model = self._meta.model._meta
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if value not in ("", None) or not model.get_field(name).has_default()
        }

    def _post_clean(self):
        # The model is not validated here: the service does it, with the
        # same messages as for the API.
        pass


class ElectricalDetailsForm(DetailsForm):
    legend = _("Electrical details")

    class Meta:
        model = ElectricalDetails
        fields = ["voltage", "circuit", "hazard_present"]


class PlumbingDetailsForm(DetailsForm):
    legend = _("Plumbing details")

    class Meta:
        model = PlumbingDetails
        fields = ["leak_severity", "water_shutoff_needed", "fixture"]


class HvacDetailsForm(DetailsForm):
    legend = _("HVAC details")

    class Meta:
        model = HvacDetails
        fields = ["system_type", "reported_temperature", "refrigerant_involved"]


DETAILS_FORMS = {
    RequestType.ELECTRICAL: ElectricalDetailsForm,
    RequestType.PLUMBING: PlumbingDetailsForm,
    RequestType.HVAC: HvacDetailsForm,
}


def details_forms(data=None, *, request=None, only_type=None) -> dict:
    """
    One details form per type (only ``only_type``'s when given), bound to
    ``data``, filled from ``request``'s stored details when editing.
    """
    forms_by_type = {}
    for request_type, form_class in DETAILS_FORMS.items():
        if only_type is not None and request_type != only_type:
            continue
        instance = request.details if request is not None else None
        forms_by_type[request_type] = form_class(data, prefix=request_type, instance=instance)
    return forms_by_type


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=Status.choices)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    assignee = forms.IntegerField(required=False)


class IdListField(forms.Field):
    """Several ids under one name (ticked boxes); which of them exist is not its call."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("Not a list of ids.")}

    def to_python(self, value):
        if not value:
            return []
        try:
            return sorted({int(item) for item in value})
        except (TypeError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class BulkAssignForm(forms.Form):
    """The list page's "assign the ticked requests to" form."""

    requests = IdListField(error_messages={"required": _("Tick the requests to assign.")})
    assignee = forms.ModelChoiceField(label=_("Technician"), queryset=None)
    note = forms.CharField(label=_("Note"), required=False)
    next = forms.CharField(required=False)

    def __init__(self, *args, technicians, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = technicians


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        error_messages={"required": _("Choose a file to attach.")},
        widget=forms.FileInput(attrs={"accept": ".jpg,.jpeg,.png,.gif,.webp,.pdf,.txt,.csv"}),
    )


class SelectOneOfMany(forms.Select):
    """
    One ``<select>`` for a filter that takes several values: a shared link
    such as the API's ``?status=new&status=triaged`` still reads as both.
    """

    def value_from_datadict(self, data, files, name):
        # The empty choice ("any") is no value of the filter.
        values = forms.SelectMultiple.value_from_datadict(self, data, files, name)
        return [value for value in values if value]

    def value_omitted_from_data(self, data, files, name):
        return False


class RequestListFilter(RequestFilter):
    """
    The API's filters (requests_app.filters), with the list page's labels
    and widgets: people and assets are picked by name rather than typed as ids.
    """

    WEB_FIELDS = (
        "search",
        "status",
        "type",
        "priority",
        "assignee",
        "asset",
        "location",
        "overdue",
    )

    def __init__(self, *args, technicians, assets, **kwargs):
        super().__init__(*args, **kwargs)
        self._technicians, self._assets = technicians, assets

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            fields = form.fields
            labels = {
                "search": _("Search"),
                "status": _("Status"),
                "type": _("Type"),
                "priority": _("Priority"),
                "assignee": _("Assignee"),
                "asset": _("Asset"),
                "location": _("Location"),
                "overdue": _("Overdue"),
            }
            for name, label in labels.items():
                fields[name].label = label
                fields[name].help_text = ""
            fields["search"].widget.attrs.update(
                {"placeholder": _("Title, description or number"), "type": "search"}
            )
            fields["status"].widget = SelectOneOfMany(
                choices=[("", _("Any status")), *Status.choices]
            )
            # django-filter's choice fields add their own empty choice: named here.
            fields["type"].empty_label = _("Any type")
            fields["priority"].empty_label = _("Any priority")
            fields["assignee"].widget = forms.Select(
                choices=[("", _("Anyone")), *((user.pk, str(user)) for user in self._technicians)]
            )
            fields["asset"].widget = forms.Select(
                choices=[("", _("Any asset")), *((asset.pk, str(asset)) for asset in self._assets)]
            )
            fields["location"].empty_label = _("Anywhere")
            fields["overdue"].choices = [
                ("", _("Any")),  # under the label "Overdue"; fits half a phone
                ("true", _("Overdue only")),
                ("false", _("Not overdue")),
            ]
            for name in fields:
                if name not in self.WEB_FIELDS:
                    fields[name].widget = forms.HiddenInput()
        return self._form


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
