"""The attachments REST endpoints."""

from rest_framework.routers import SimpleRouter

from attachments.api import views

router = SimpleRouter()
router.register("attachments", views.AttachmentViewSet, basename="attachment")

urlpatterns = router.urls
