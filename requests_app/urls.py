from django.urls import path

from requests_app import views
from requests_app.dashboard import views as dashboard_views

app_name = "requests_app"

urlpatterns = [
    path("", views.request_list, name="list"),
    path("dashboard/", dashboard_views.dashboard_view, name="dashboard"),
    path("new/", views.request_create, name="create"),
    path("assign/", views.request_bulk_assign, name="bulk_assign"),
    path("<int:pk>/", views.request_detail, name="detail"),
    path("<int:pk>/edit/", views.request_edit, name="edit"),
    path("<int:pk>/transition/", views.request_transition, name="transition"),
    path("<int:pk>/comment/", views.request_comment, name="comment"),
    path("<int:pk>/attachments/", views.request_attachment_upload, name="attachment_upload"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("attachments/<int:pk>/delete/", views.attachment_delete, name="attachment_delete"),
]
