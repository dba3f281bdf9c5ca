from rest_framework.routers import SimpleRouter

from audit.api import views

router = SimpleRouter()
router.register("audit", views.AuditEntryViewSet, basename="audit")

urlpatterns = router.urls
