"""URLs of the main domain (public schema): the platform's own site and admin."""

from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import TemplateView

from main_site.api.signup import SignupAPIView
from main_site.views import (
    FindOrganisationView,
    PricingView,
    SignupView,
    subdomain_availability,
)
from smartmaintenance.api.exceptions import api_not_found

admin.site.site_header = "SmartMaintenance platform"
admin.site.site_title = "SmartMaintenance platform"

urlpatterns = [
    path("", TemplateView.as_view(template_name="public/landing.html"), name="landing"),
    path("pricing/", PricingView.as_view(), name="pricing"),
    path("signup/", SignupView.as_view(), name="signup"),
    path("find-my-organisation/", FindOrganisationView.as_view(), name="find_organisation"),
    path("signup/availability/", subdomain_availability, name="signup-availability"),
    path("api/signup/", SignupAPIView.as_view(), name="api-signup"),
    path("api/v1/platform/", include(("main_site.api.platform", "platform-api"))),
    re_path(r"^api/", api_not_found),
    path("admin/", admin.site.urls),
]
