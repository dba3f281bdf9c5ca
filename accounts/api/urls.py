from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import views

router = SimpleRouter()
router.register("users", views.UserViewSet, basename="user")
router.register("roles", views.RoleViewSet, basename="role")
router.register("api-keys", views.APIKeyViewSet, basename="apikey")

urlpatterns = [path("me/", views.MeView.as_view(), name="me"), *router.urls]
