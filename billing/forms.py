"""The plan page's forms: which paid plan, billed how often."""

from django import forms

from billing.models import TenantSubscription
from billing.plans import PAID_PLAN_CODES, get_plan


class PlanChoiceForm(forms.Form):
    plan = forms.ChoiceField(
        choices=[(code.value, get_plan(code).name) for code in PAID_PLAN_CODES]
    )
    cycle = forms.ChoiceField(
        choices=TenantSubscription.Cycle.choices, initial=TenantSubscription.Cycle.MONTHLY
    )
