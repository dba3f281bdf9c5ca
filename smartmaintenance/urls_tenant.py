"""URLs of a tenant's subdomain: its staff web UI and its REST API."""

from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.views.generic import TemplateView

from requests_app.views import AssetReportView

urlpatterns = [
    path("", login_required(TemplateView.as_view(template_name="home.html")), name="home"),
    path("accounts/two-factor/", include("accounts.two_factor.urls")),
    path("accounts/", include("accounts.urls")),
    path("settings/audit/", include("audit.urls")),
    path("assets/", include("assets.urls")),
    path("requests/", include("requests_app.urls")),
    path("api/", include("smartmaintenance.urls_api")),
    path("settings/webhooks/", include("webhooks.urls")),
    # Public, no login: the page an asset's QR code opens. Short, to keep the code small.
    path("r/<slug:token>/", AssetReportView.as_view(), name="asset_report"),
]
