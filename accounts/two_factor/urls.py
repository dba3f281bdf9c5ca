"""Included on each tenant's host and on the main domain (platform admins)."""

from django.urls import path

from accounts.two_factor import views

app_name = "two_factor"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("verify/", views.verify, name="verify"),
    path("enrol/", views.enrol, name="enrol"),
    path("disable/", views.disable, name="disable"),
    path("required/", views.RequirementView.as_view(), name="requirement"),
]
