"""What every app's server-rendered forms share."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms.renderers import TemplatesSetting
from django.shortcuts import redirect


class SiteFormRenderer(TemplatesSetting):
    """
    Renders ``{{ form }}`` with templates/forms/: Bootstrap's classes on every
    widget, label, help and errors in the same places on every form.
    """

    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"


def add_service_error(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, on its field where it names one."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class ServiceFormMixin:
    """
    For a FormView whose valid form a service writes: ``form_save(form)``
    calls it and returns what it wrote. A ValidationError from the service
    shows on the form (``add_service_error``) and the page comes back;
    otherwise ``success_message(written)`` is shown, when there is one, and
    the user is sent to ``success_redirect(written)``: ``redirect_to`` (a URL
    name, say) unless a view says otherwise.
    """

    redirect_to = None

    def form_save(self, form):
        raise NotImplementedError

    def success_message(self, written) -> str:
        return ""

    def success_redirect(self, written):
        return self.redirect_to

    def form_valid(self, form):
        try:
            written = self.form_save(form)
        except ValidationError as error:
            add_service_error(form, error)
            return self.form_invalid(form)
        message = self.success_message(written)
        if message:
            messages.success(self.request, message)
        return redirect(self.success_redirect(written))
