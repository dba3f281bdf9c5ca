"""
The platform's public pages: landing, pricing, signup with its subdomain
availability check, and "find my organisation".
"""

import logging
from functools import partial
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET
from django.views.generic import FormView, TemplateView
from kombu.exceptions import OperationalError

from billing.plans import PLANS, Feature, plan_limits
from main_site.forms import FindOrganisationForm, SignupForm
from main_site.services import tenant_signup
from main_site.tasks import organisation_links_send
from main_site.throttles import FindOrganisationRateThrottle, SignupRateThrottle
from smartmaintenance.forms import add_service_error
from tenants.services import subdomain_validate_available


def tenant_login_url(request, tenant, email=""):
    """The login page of the tenant's subdomain, on the scheme and port of this request."""
    _host, _sep, port = request.get_host().partition(":")
    netloc = f"{tenant.subdomain}.{settings.BASE_DOMAIN}" + (f":{port}" if port else "")
    query = f"?{urlencode({'email': email})}" if email else ""
    return f"{request.scheme}://{netloc}/accounts/login/{query}"


class SignupView(FormView):
    template_name = "public/signup.html"
    form_class = SignupForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "base_domain": settings.BASE_DOMAIN}

    def get_initial(self):
        # The pricing page's buttons name a plan.
        plan = self.request.GET.get("plan", "")
        return {**super().get_initial(), **({"plan": plan} if plan in PLANS else {})}

    def post(self, request, *args, **kwargs):
        throttle = SignupRateThrottle()
        if not throttle.allow_request(request, self):
            response = render(request, "public/signup_throttled.html", status=429)
            response["Retry-After"] = str(int(throttle.wait() or 60))
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            tenant = tenant_signup(**form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
            return self.form_invalid(form)
        return redirect(tenant_login_url(self.request, tenant, form.cleaned_data["admin_email"]))


@require_GET
def subdomain_availability(request):
    subdomain = request.GET.get("subdomain", "")
    try:
        subdomain_validate_available(subdomain)
    except ValidationError as error:
        return JsonResponse(
            {"subdomain": subdomain, "available": False, "reason": error.messages[0]}
        )
    return JsonResponse({"subdomain": subdomain, "available": True, "reason": ""})


class PricingView(TemplateView):
    """The plans, read from billing's catalogue: the same limits the product enforces."""

    template_name = "public/pricing.html"

    def get_context_data(self, **kwargs):
        plans = [
            {
                "code": code.value,
                "plan": plan,
                "limits": plan_limits(code),
                "features": [(feature.label, feature in plan.features) for feature in Feature],
            }
            for code, plan in PLANS.items()
        ]
        return super().get_context_data(plans=plans, **kwargs)


logger = logging.getLogger(__name__)


def _queue_organisation_links(email, scheme, port):
    try:
        organisation_links_send.apply_async(args=[email, scheme, port], retry=False)
    except OperationalError as error:
        logger.warning("Find-my-organisation e-mail not queued: %s", error)


class FindOrganisationView(FormView):
    """
    Enter an e-mail address, receive the login links of its organisations by
    e-mail. The answer is the same whether or not the address has accounts,
    and the lookup (a query per tenant) runs in a task, so neither the page
    nor its timing tells a visitor anything. Throttled per client address.
    """

    template_name = "public/find_organisation.html"
    form_class = FindOrganisationForm

    def post(self, request, *args, **kwargs):
        throttle = FindOrganisationRateThrottle()
        if not throttle.allow_request(request, self):
            response = render(request, "public/find_organisation_throttled.html", status=429)
            response["Retry-After"] = str(int(throttle.wait() or 60))
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        _host, _sep, port = self.request.get_host().partition(":")
        transaction.on_commit(
            partial(
                _queue_organisation_links, form.cleaned_data["email"], self.request.scheme, port
            )
        )
        return render(
            self.request,
            "public/find_organisation_sent.html",
            {"email": form.cleaned_data["email"]},
        )
