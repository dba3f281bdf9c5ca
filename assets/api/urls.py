"""
The assets REST endpoints. Basenames are prefixed so that the URL names
(``api:asset-attachment-download``…) cannot collide with the requests API's.
"""

from rest_framework.routers import SimpleRouter

from assets.api import views

router = SimpleRouter()
router.register("locations", views.LocationViewSet, basename="location")
router.register("assets", views.AssetViewSet, basename="asset")

urlpatterns = router.urls
