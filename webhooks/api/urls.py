"""The webhooks REST endpoints."""

from rest_framework.routers import SimpleRouter

from webhooks.api import views

router = SimpleRouter()
router.register("webhooks", views.EndpointViewSet, basename="webhook")
router.register("webhook-deliveries", views.DeliveryViewSet, basename="webhook-delivery")

urlpatterns = router.urls
