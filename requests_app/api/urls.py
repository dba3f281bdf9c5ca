"""The requests_app REST endpoints."""

from rest_framework.routers import SimpleRouter

from requests_app.api import views

router = SimpleRouter()
router.register("requests", views.RequestViewSet, basename="request")
router.register(
    r"requests/(?P<request_pk>[0-9]+)/comments",
    views.RequestCommentViewSet,
    basename="request-comment",
)
router.register(
    r"requests/(?P<request_pk>[0-9]+)/attachments",
    views.RequestAttachmentViewSet,
    basename="request-attachment",
)
router.register(
    r"requests/(?P<request_pk>[0-9]+)/history",
    views.RequestHistoryViewSet,
    basename="request-history",
)

urlpatterns = router.urls
