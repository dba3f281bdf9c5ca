"""The webhook settings pages; mounted at /settings/webhooks/ by smartmaintenance/urls_tenant.py."""

from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.EndpointListView.as_view(), name="endpoint_list"),
    path("new/", views.EndpointCreateView.as_view(), name="endpoint_create"),
    path("<int:pk>/", views.EndpointDetailView.as_view(), name="endpoint_detail"),
    path("<int:pk>/edit/", views.EndpointUpdateView.as_view(), name="endpoint_update"),
    path("<int:pk>/delete/", views.EndpointDeleteView.as_view(), name="endpoint_delete"),
    path("<int:pk>/rotate-secret/", views.EndpointRotateSecretView.as_view(), name="rotate_secret"),
    path("deliveries/<uuid:pk>/", views.DeliveryDetailView.as_view(), name="delivery_detail"),
    path(
        "deliveries/<uuid:pk>/replay/", views.DeliveryReplayView.as_view(), name="delivery_replay"
    ),
]
