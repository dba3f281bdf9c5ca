"""Staff pages for preventive-maintenance schedules, under /schedules/."""

from django.urls import path

from preventive import views

app_name = "preventive"

urlpatterns = [
    path("", views.ScheduleListView.as_view(), name="schedule_list"),
    path("new/", views.ScheduleCreateView.as_view(), name="schedule_create"),
    path("<int:pk>/", views.ScheduleDetailView.as_view(), name="schedule_detail"),
    path("<int:pk>/edit/", views.ScheduleUpdateView.as_view(), name="schedule_update"),
    path("<int:pk>/pause/", views.SchedulePauseView.as_view(), name="schedule_pause"),
    path(
        "<int:pk>/resume/",
        views.SchedulePauseView.as_view(resume=True),
        name="schedule_resume",
    ),
]
