"""
The preventive-maintenance REST endpoints; URL names ``api:schedule-…`` as
when they were part of the assets API.
"""

from rest_framework.routers import SimpleRouter

from preventive.api import views

router = SimpleRouter()
router.register("schedules", views.ScheduleViewSet, basename="schedule")

urlpatterns = router.urls
