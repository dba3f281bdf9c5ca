"""URLs of a tenant's subdomain: its staff web UI and its REST API."""

from django.urls import include, path

from organisation.views import branding_css, branding_logo
from preventive.checklist_views import checklist_item_complete
from requests_app.dashboard.views import home_view
from requests_app.views import AssetReportView

urlpatterns = [
    path("", home_view, name="home"),
    path("accounts/", include("accounts.urls")),
    path("assets/", include("assets.urls")),
    path("requests/", include("requests_app.urls")),
    path("schedules/", include("preventive.urls")),
    path("api/", include("smartmaintenance.urls_api")),
    path("settings/webhooks/", include("webhooks.urls")),
    # Ticked on the request's page (requests_app shows the checklist preventive gives it).
    path(
        "checklist-items/<int:pk>/complete/",
        checklist_item_complete,
        name="checklist_item_complete",
    ),
    path("settings/", include("organisation.urls")),
    # The tenant's brand, versioned so that browsers keep them (organisation/views.py).
    path("branding/<slug:version>.css", branding_css, name="branding_css"),
    path("branding/logo/<slug:version>/", branding_logo, name="branding_logo"),
    # Public, no login: the page an asset's QR code opens. Short, to keep the code small.
    path("r/<slug:token>/", AssetReportView.as_view(), name="asset_report"),
]
