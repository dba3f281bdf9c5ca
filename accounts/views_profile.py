"""The signed-in user's own profile: name and e-mail notification switches."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import FormView

from accounts import selectors, services
from accounts.forms import NotificationPreferenceForm, ProfileForm
from smartmaintenance.forms import ServiceFormMixin


class ProfileView(LoginRequiredMixin, ServiceFormMixin, FormView):
    template_name = "accounts/profile.html"
    form_class = ProfileForm
    redirect_to = "accounts:profile"

    def get_initial(self):
        return {"full_name": self.request.user.full_name}

    def get_context_data(self, **kwargs):
        # The switches post to the notification page's own view, which comes back here.
        return super().get_context_data(
            notification_form=NotificationPreferenceForm(
                instance=selectors.notification_preferences_get(self.request.user)
            ),
            notification_action=reverse("accounts:notification_preferences"),
            **kwargs,
        )

    def form_save(self, form):
        return services.profile_update(user=self.request.user, **form.cleaned_data)

    def success_message(self, user):
        return _("Profile saved.")
