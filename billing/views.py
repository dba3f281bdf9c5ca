"""
The plan page of a tenant's admins (``/settings/billing/``) and its buttons,
each a POST that calls a service and redirects: to Stripe (Checkout, the
customer portal) or back to the page with a message.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from billing import checkout, selectors, services
from billing.forms import PlanChoiceForm
from billing.models import MANAGE_BILLING, TenantSubscription
from billing.plans import PAID_PLAN_CODES, PLANS, PlanCode, get_plan
from billing.stripe_client import billing_configured
from billing.subscriptions import subscription_for_tenant
from tenants.selectors import current_tenant


class BillingAdminMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Tenant admins only: the built-in Admin role holds ``billing.manage_billing``."""

    permission_required = MANAGE_BILLING
    raise_exception = True

    def handle_no_permission(self):
        if not self.request.user.is_authenticated:
            self.raise_exception = False
        return super().handle_no_permission()


class PlanView(BillingAdminMixin, TemplateView):
    template_name = "billing/plan.html"

    def get_context_data(self, **kwargs):
        tenant = current_tenant()
        subscription = subscription_for_tenant(tenant)
        subscribed = bool(subscription.stripe_subscription_id) and subscription.status not in (
            TenantSubscription.Status.CANCELLED,
            TenantSubscription.Status.INCOMPLETE,
        )
        usage = selectors.usage_against_limits(tenant)
        return super().get_context_data(
            tenant=tenant,
            subscription=subscription,
            plan=get_plan(tenant.plan),
            configured=billing_configured(),
            subscribed=subscribed,
            usage=usage,
            over_limits=[row for row in usage if row["over_by"]],
            invoices=selectors.invoices_for(subscription),
            paid_plans=[PLANS[code] for code in PAID_PLAN_CODES],
            cycles=TenantSubscription.Cycle.choices,
            free_plan=PLANS[PlanCode.FREE],
            section="billing",
            **kwargs,
        )


class BillingActionView(BillingAdminMixin, View):
    """A button of the plan page: ``act()`` returns where to go, or raises ValidationError."""

    http_method_names = ["post"]
    done_message = ""

    def act(self, tenant):
        raise NotImplementedError

    def post(self, request):
        if not billing_configured():
            messages.error(request, "Billing is not configured: nothing was changed.")
            return redirect("billing:plan")
        try:
            target = self.act(current_tenant())
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("billing:plan")
        if self.done_message:
            messages.success(request, self.done_message)
        return redirect(target)

    def absolute(self, name):
        return self.request.build_absolute_uri(reverse(name))


class CheckoutView(BillingActionView):
    """Subscribe (no subscription yet): off to Stripe Checkout."""

    def act(self, tenant):
        form = PlanChoiceForm(self.request.POST)
        if not form.is_valid():
            raise ValidationError("Choose a paid plan and monthly or annual billing.")
        return checkout.checkout_url(
            tenant=tenant,
            plan=form.cleaned_data["plan"],
            cycle=form.cleaned_data["cycle"],
            success_url=self.absolute("billing:success") + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=self.absolute("billing:plan"),
            email=self.request.user.email,
        )


class ChangePlanView(BillingActionView):
    """Upgrade or downgrade an existing subscription, prorated."""

    done_message = "The plan was changed."

    def act(self, tenant):
        form = PlanChoiceForm(self.request.POST)
        if not form.is_valid():
            raise ValidationError("Choose a paid plan and monthly or annual billing.")
        services.subscription_change_plan(
            tenant=tenant, plan=form.cleaned_data["plan"], cycle=form.cleaned_data["cycle"]
        )
        return "billing:plan"


class PortalView(BillingActionView):
    """Card, invoices and billing details: off to Stripe's customer portal."""

    def act(self, tenant):
        return checkout.portal_url(tenant=tenant, return_url=self.absolute("billing:plan"))


class CancelView(BillingActionView):
    done_message = "The subscription will end at the end of the current period."

    def act(self, tenant):
        services.subscription_schedule_cancellation(tenant=tenant)
        return "billing:plan"


class ResumeView(BillingActionView):
    done_message = "The subscription will renew as before."

    def act(self, tenant):
        services.subscription_renew(tenant=tenant)
        return "billing:plan"


class CheckoutSuccessView(BillingAdminMixin, TemplateView):
    """Where Checkout sends the admin back; the webhook brings the subscription itself."""

    template_name = "billing/success.html"
