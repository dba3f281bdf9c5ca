"""Staff pages for assets and locations (the public report page is in urls_tenant)."""

from django.urls import path

from assets import views

app_name = "assets"

urlpatterns = [
    path("", views.AssetListView.as_view(), name="list"),
    path("new/", views.AssetCreateView.as_view(), name="create"),
    path("labels/", views.AssetLabelSheetView.as_view(), name="labels"),
    path("<int:pk>/", views.AssetDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.AssetUpdateView.as_view(), name="update"),
    path(
        "<int:pk>/attachments/",
        views.AssetAttachmentUploadView.as_view(),
        name="attachment_upload",
    ),
    path("<int:pk>/photo/", views.AssetPhotoView.as_view(), name="photo"),
    path("<int:pk>/retire/", views.AssetRetireView.as_view(), name="retire"),
    path("<int:pk>/qr.svg", views.AssetQRCodeView.as_view(), {"format": "svg"}, name="qr_svg"),
    path("<int:pk>/qr.png", views.AssetQRCodeView.as_view(), {"format": "png"}, name="qr_png"),
    path("locations/", views.LocationListView.as_view(), name="location_list"),
    path("locations/new/", views.LocationCreateView.as_view(), name="location_create"),
    path("locations/<int:pk>/edit/", views.LocationUpdateView.as_view(), name="location_update"),
]
