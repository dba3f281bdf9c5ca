"""
The settings area's own pages: organisation, branding and the request
workflow's SLA targets, plus the per-tenant stylesheet and logo that
branding serves to every page. Users, roles and API keys are accounts'
pages, webhooks webhooks'; all share templates/settings/base.html.
"""

from django.contrib.auth.mixins import PermissionRequiredMixin, UserPassesTestMixin
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django.views.generic import FormView, View
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.selectors import user_is_tenant_admin
from billing import limits
from billing.plans import Feature
from organisation import services
from organisation.forms import BrandingForm, OrganisationForm, RequestSettingsForm
from organisation.selectors import settings_sections
from requests_app.selectors import request_settings_get
from requests_app.services import request_settings_update
from smartmaintenance.forms import ServiceFormMixin
from tenants.branding import branding_version, hex_to_rgb, shade

# A versioned URL never changes content: browsers may keep it for a year.
IMMUTABLE = "public, max-age=31536000, immutable"


class SettingsIndexView(View):
    """/settings/: the first section the user may open, or 403."""

    def get(self, request):
        if not request.user.is_authenticated:
            return redirect(f"{reverse('accounts:login')}?next={request.path}")
        sections = settings_sections(request.user)
        if not sections:
            raise PermissionDenied
        return redirect(sections[0][1])


class TenantAdminRequiredMixin(UserPassesTestMixin):
    def test_func(self):
        return user_is_tenant_admin(self.request.user)


class OrganisationView(TenantAdminRequiredMixin, ServiceFormMixin, FormView):
    template_name = "settings/organisation.html"
    form_class = OrganisationForm
    redirect_to = "organisation:organisation"

    def get_initial(self):
        tenant = self.request.tenant
        return {
            field: getattr(tenant, field)
            for field in ("name", "timezone", "contact_name", "contact_phone", "billing_email")
        }

    def form_save(self, form):
        return services.organisation_update(
            tenant=self.request.tenant, by=self.request.user, **form.cleaned_data
        )

    def success_message(self, tenant):
        return _("Organisation details saved.")


class BrandingView(TenantAdminRequiredMixin, ServiceFormMixin, FormView):
    template_name = "settings/branding.html"
    form_class = BrandingForm
    redirect_to = "organisation:branding"

    def get_initial(self):
        return {"primary_color": self.request.tenant.primary_color}

    def get_context_data(self, **kwargs):
        tenant = self.request.tenant
        return super().get_context_data(
            feature_enabled=limits.has_feature(tenant, Feature.CUSTOM_BRANDING),
            logo_url=(
                reverse("branding_logo", args=[branding_version(tenant)]) if tenant.logo else ""
            ),
            **kwargs,
        )

    def form_save(self, form):
        return services.branding_update(
            tenant=self.request.tenant,
            by=self.request.user,
            primary_color=form.cleaned_data["primary_color"],
            logo=form.cleaned_data["logo"] or None,
            remove_logo=form.cleaned_data["remove_logo"],
        )

    def success_message(self, tenant):
        return _("Branding saved.")


class RequestSettingsView(PermissionRequiredMixin, ServiceFormMixin, FormView):
    permission_required = "requests_app.change_requestsettings"
    template_name = "settings/requests.html"
    form_class = RequestSettingsForm
    redirect_to = "organisation:requests"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": request_settings_get()}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            sla_enabled=limits.has_feature(self.request.tenant, Feature.SLA), **kwargs
        )

    def form_save(self, form):
        return request_settings_update(**form.cleaned_data)

    def success_message(self, written):
        return _("Request settings saved.")


@require_GET
def branding_css(request, version):
    """
    The tenant's stylesheet: Bootstrap's primary colour variables set to its
    brand. Linked from base.html only for tenants with branding; the version
    in the URL changes with the colour, so the answer is cached for good.
    """
    tenant = request.tenant
    if tenant.is_public:
        raise Http404
    colour = tenant.primary_color
    hover = shade(colour, 0.15)
    response = render(
        request,
        "settings/branding.css",
        {
            "primary": colour,
            "primary_rgb": ", ".join(map(str, hex_to_rgb(colour))),
            "hover": hover,
            "hover_rgb": ", ".join(map(str, hex_to_rgb(hover))),
            "active": shade(colour, 0.25),
        },
        content_type="text/css; charset=utf-8",
    )
    current = version == branding_version(tenant)
    response["Cache-Control"] = IMMUTABLE if current else "no-cache"
    return response


@require_GET
def branding_logo(request, version):
    """The tenant's logo, from the public schema's storage where uploads keep it."""
    tenant = request.tenant
    if tenant.is_public or not tenant.logo:
        raise Http404
    with schema_context(get_public_schema_name()):
        try:
            handle = default_storage.open(tenant.logo.name, "rb")
        except FileNotFoundError:
            raise Http404 from None
    response = FileResponse(handle)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = IMMUTABLE if version == branding_version(tenant) else "no-cache"
    return response
