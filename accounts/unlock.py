"""The tenant admin's unlock button on a user's page."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import View

from accounts import selectors
from accounts.lockout import user_unlock
from accounts.models import User


class UserUnlockView(PermissionRequiredMixin, View):
    permission_required = "accounts.change_user"
    http_method_names = ["post"]

    def post(self, request, pk):
        try:
            user = selectors.user_get(pk=pk)
        except User.DoesNotExist:
            raise Http404("No such user.") from None
        user_unlock(user=user, by=request.user)
        messages.success(request, _("%(user)s can log in again.") % {"user": user.email})
        return redirect("accounts:user_update", pk=pk)
