"""The platform API, on the main domain, for platform admins only."""

urlpatterns = []
