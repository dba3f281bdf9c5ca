"""The REST API of a tenant's subdomain, under /api/v1/ (docs/api.md)."""

from csp.decorators import csp_update
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from billing.api.plan import PlanView
from smartmaintenance.api.exceptions import api_not_found

app_name = "api"

v1 = [
    path("", include("accounts.api.urls")),
    path("", include("assets.api.urls")),
    path("", include("requests_app.api.urls")),
    path("", include("attachments.api.urls")),
    path("", include("preventive.api.urls")),
    path("", include("webhooks.api.urls")),
    path("", include("audit.api.urls")),
    path("plan/", PlanView.as_view(), name="plan"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file of its own,
    # so the page runs under script-src 'self' (no inline script). Swagger UI
    # (React) writes style attributes as it renders: on this page alone, styles
    # may be inline; scripts never (docs/security.md).
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api:schema")
        ),
        name="docs",
    ),
]

urlpatterns = [
    path("v1/", include(v1)),
    re_path(r"^", api_not_found),
]
