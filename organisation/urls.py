"""The settings area's own pages, mounted at /settings/ by smartmaintenance/urls_tenant.py."""

from django.urls import path

from organisation import views

app_name = "organisation"

urlpatterns = [
    path("", views.SettingsIndexView.as_view(), name="index"),
    path("organisation/", views.OrganisationView.as_view(), name="organisation"),
    path("branding/", views.BrandingView.as_view(), name="branding"),
    path("requests/", views.RequestSettingsView.as_view(), name="requests"),
]
