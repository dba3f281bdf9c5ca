from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views, views_invitations, views_password, views_profile

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("notifications/", views.notification_preferences, name="notification_preferences"),
    path("profile/", views_profile.ProfileView.as_view(), name="profile"),
    # Password reset and change (accounts/views_password.py).
    path("password/reset/", views_password.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        views_password.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views_password.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        views_password.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("password/change/", views_password.PasswordChangeView.as_view(), name="password_change"),
    # Invitations (accounts/invitations.py): the invitee's page, the admin's buttons.
    path(
        "invitation/<str:token>/",
        views_invitations.InvitationAcceptView.as_view(),
        name="invitation_accept",
    ),
    # Tenant admin: users and roles.
    path("users/", views.UserListView.as_view(), name="user_list"),
    path("users/new/", views.UserCreateView.as_view(), name="user_create"),
    path("users/<int:pk>/", views.UserUpdateView.as_view(), name="user_update"),
    path(
        "users/<int:pk>/resend-invitation/",
        views_invitations.InvitationResendView.as_view(),
        name="invitation_resend",
    ),
    path(
        "users/<int:pk>/deactivate/",
        views_invitations.UserDeactivateView.as_view(),
        name="user_deactivate",
    ),
    path("roles/", views.RoleListView.as_view(), name="role_list"),
    path("roles/new/", views.RoleCreateView.as_view(), name="role_create"),
    path("roles/<int:pk>/", views.RoleUpdateView.as_view(), name="role_update"),
    path("roles/<int:pk>/delete/", views.RoleDeleteView.as_view(), name="role_delete"),
    path("api-keys/", views.APIKeyListView.as_view(), name="api_key_list"),
    path("api-keys/<int:pk>/revoke/", views.APIKeyRevokeView.as_view(), name="api_key_revoke"),
]
