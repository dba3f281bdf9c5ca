"""URLs of the main domain (public schema): the platform's own site and admin."""

from django.contrib import admin
from django.urls import path
from django.views.generic import TemplateView

from tenants.api import SignupAPIView
from tenants.views import SignupView, subdomain_availability

admin.site.site_header = "SmartMaintenance platform"
admin.site.site_title = "SmartMaintenance platform"

urlpatterns = [
    path("", TemplateView.as_view(template_name="public/landing.html"), name="landing"),
    path("signup/", SignupView.as_view(), name="signup"),
    path("signup/availability/", subdomain_availability, name="signup-availability"),
    path("api/signup/", SignupAPIView.as_view(), name="api-signup"),
    path("admin/", admin.site.urls),
]
