from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.PlanView.as_view(), name="plan"),
    path("checkout/", views.CheckoutView.as_view(), name="checkout"),
    path("success/", views.CheckoutSuccessView.as_view(), name="success"),
    path("change/", views.ChangePlanView.as_view(), name="change"),
    path("portal/", views.PortalView.as_view(), name="portal"),
    path("cancel/", views.CancelView.as_view(), name="cancel"),
    path("resume/", views.ResumeView.as_view(), name="resume"),
]
