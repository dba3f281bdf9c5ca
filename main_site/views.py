"""The platform's public pages: signup and its subdomain availability check."""

from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET
from django.views.generic import FormView

from main_site.forms import SignupForm
from main_site.services import tenant_signup
from main_site.throttles import SignupRateThrottle
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
