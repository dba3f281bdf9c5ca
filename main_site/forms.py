from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from billing.plans import PLANS, PlanCode
from main_site.services import signup_validate


def plan_choices():
    return [
        (
            code.value,
            f"{plan.name} — "
            + (
                f"${plan.monthly_price}/month"
                if plan.monthly_price is not None
                else "custom pricing"
            ),
        )
        for code, plan in PLANS.items()
    ]


class SignupForm(forms.Form):
    """Signup fields; the rules themselves are main_site.services.signup_validate's."""

    organisation_name = forms.CharField(label=_("Organisation name"), max_length=200)
    subdomain = forms.CharField(
        label=_("Subdomain"),
        max_length=63,
        help_text=_(
            "Lower-case letters, digits and hyphens; your address will be <subdomain>.%(domain)s."
        ),
    )
    admin_name = forms.CharField(label=_("Your name"), max_length=150)
    admin_email = forms.EmailField(label=_("Your e-mail"))
    admin_password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    plan = forms.ChoiceField(label=_("Plan"), choices=plan_choices, initial=PlanCode.FREE)

    def __init__(self, *args, base_domain, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subdomain"].help_text = self.fields["subdomain"].help_text % {
            "domain": base_domain
        }
        self.fields["subdomain"].widget.attrs.update(
            {"data-availability-url": "/signup/availability/", "autocomplete": "off"}
        )

    def clean(self):
        cleaned_data = super().clean()
        values = {name: cleaned_data.get(name) or "" for name in self.fields}
        try:
            signup_validate(**values)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                if field not in self.errors:
                    for message in messages:
                        self.add_error(field, message)
        return cleaned_data


class FindOrganisationForm(forms.Form):
    email = forms.EmailField(
        label=_("Your e-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
