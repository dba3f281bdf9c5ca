from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from accounts.models import NotificationPreference
from requests_app.notifications import (
    notification_preferences_get,
    notification_preferences_update,
)


class LoginView(auth_views.LoginView):
    """Log-in on a tenant's subdomain; ``?email=`` pre-fills the address after signup."""

    def get_initial(self):
        return {**super().get_initial(), "username": self.request.GET.get("email", "")}


class NotificationPreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = NotificationPreference.KINDS


@login_required
def notification_preferences(request):
    """The signed-in user's own e-mail notification switches; nobody else's."""
    form = NotificationPreferenceForm(
        request.POST or None, instance=notification_preferences_get(request.user)
    )
    if request.method == "POST" and form.is_valid():
        notification_preferences_update(
            user=request.user, **{kind: form.cleaned_data[kind] for kind in form.Meta.fields}
        )
        messages.success(request, "Notification preferences saved.")
        return redirect("accounts:notification_preferences")
    return render(request, "accounts/notification_preferences.html", {"form": form})
