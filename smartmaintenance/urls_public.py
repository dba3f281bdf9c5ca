"""URLs of the main domain (public schema): the platform's own site and admin."""

from django.contrib import admin
from django.urls import path
from django.views.generic import TemplateView

admin.site.site_header = "SmartMaintenance platform"
admin.site.site_title = "SmartMaintenance platform"

urlpatterns = [
    path("", TemplateView.as_view(template_name="public/landing.html"), name="landing"),
    path("admin/", admin.site.urls),
]
