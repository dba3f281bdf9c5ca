"""
Invitations: the page where an invited user sets their password, and the
tenant admin's resend and deactivate buttons on the user pages.
"""

from django.contrib import messages
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.generic import FormView, View

from accounts import invitations, selectors, services
from accounts.models import User
from smartmaintenance.forms import add_service_error


def invitation_link_for(request):
    """Makes invitation links on the host the admin is using: never a configured domain."""

    def link_for(token):
        return request.build_absolute_uri(reverse("accounts:invitation_accept", args=[token]))

    return link_for


class InvitationAcceptView(FormView):
    """The invited user chooses a password; the link then stops working."""

    template_name = "accounts/invitation_accept.html"
    form_class = SetPasswordForm

    def dispatch(self, request, *args, token, **kwargs):
        self.token = token
        try:
            self.invited = invitations.invitation_user_get(token)
        except invitations.InvalidInvitation:
            return render(request, "accounts/invitation_invalid.html", status=410)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.invited}

    def get_context_data(self, **kwargs):
        return super().get_context_data(invited=self.invited, **kwargs)

    def form_valid(self, form):
        try:
            user = invitations.invitation_accept(
                token=self.token, password=form.cleaned_data["new_password1"]
            )
        except invitations.InvalidInvitation:
            return render(self.request, "accounts/invitation_invalid.html", status=410)
        except ValidationError as error:
            add_service_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Your password is set. Log in to continue."))
        return redirect(f"{reverse('accounts:login')}?{urlencode({'email': user.email})}")


class UserActionView(PermissionRequiredMixin, View):
    http_method_names = ["post"]

    def dispatch(self, request, *args, pk, **kwargs):
        try:
            self.user = selectors.user_get(pk=pk)
        except User.DoesNotExist:
            raise Http404("No such user.") from None
        return super().dispatch(request, *args, **kwargs)


class InvitationResendView(UserActionView):
    permission_required = "accounts.add_user"

    def post(self, request):
        try:
            invitations.invitation_send(
                user=self.user,
                url=invitation_link_for(request)(invitations.invitation_token_make(self.user)),
                invited_by=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, _("Invitation sent again to %(user)s.") % {"user": self.user.email}
            )
        return redirect("accounts:user_update", pk=self.user.pk)


class UserDeactivateView(UserActionView):
    permission_required = "accounts.change_user"

    def post(self, request):
        try:
            services.user_deactivate(user=self.user, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("accounts:user_update", pk=self.user.pk)
        messages.success(
            request,
            _("%(user)s deactivated: they can no longer log in.") % {"user": self.user.email},
        )
        return redirect("accounts:user_list")
