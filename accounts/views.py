from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView, View

from accounts import api_keys, selectors, services
from accounts.forms import (
    APIKeyForm,
    NotificationPreferenceForm,
    RoleForm,
    UserCreateForm,
    UserUpdateForm,
)
from accounts.invitations import user_invite_and_send
from accounts.models import User
from billing import limits
from billing.plans import Feature
from smartmaintenance.forms import ServiceFormMixin, add_service_error


class LoginView(auth_views.LoginView):
    """Log-in on a tenant's subdomain; ``?email=`` pre-fills the address after signup."""

    def get_initial(self):
        return {**super().get_initial(), "username": self.request.GET.get("email", "")}


@login_required
def notification_preferences(request):
    """The signed-in user's own e-mail notification switches; nobody else's."""
    form = NotificationPreferenceForm(
        request.POST or None, instance=selectors.notification_preferences_get(request.user)
    )
    if request.method == "POST" and form.is_valid():
        services.notification_preferences_update(
            user=request.user, **{kind: form.cleaned_data[kind] for kind in form.Meta.fields}
        )
        messages.success(request, "Notification preferences saved.")
        # The profile page holds these switches too; it is where people come from.
        return redirect("accounts:profile")
    return render(request, "accounts/notification_preferences.html", {"form": form})


# --- Tenant admin: users and roles ---------------------------------------------------
# Guarded by Django permissions (the built-in Admin role holds accounts.* and
# auth.*); a signed-in user without them gets 403. Every write is a service.


class UserListView(PermissionRequiredMixin, TemplateView):
    permission_required = "accounts.view_user"
    template_name = "accounts/user_list.html"

    def get_context_data(self, **kwargs):
        tenant = self.request.tenant
        return super().get_context_data(
            users=selectors.user_list(),
            seats_used=limits.usage(tenant, limits.Resource.USERS),
            seats_limit=limits.limit_for(tenant, limits.Resource.USERS),
            **kwargs,
        )


class UserCreateView(PermissionRequiredMixin, ServiceFormMixin, FormView):
    permission_required = "accounts.add_user"
    template_name = "accounts/user_form.html"
    form_class = UserCreateForm
    redirect_to = "accounts:user_list"

    def form_save(self, form):
        return user_invite_and_send(
            link_for=lambda token: self.request.build_absolute_uri(
                reverse("accounts:invitation_accept", args=[token])
            ),
            invited_by=self.request.user,
            **form.cleaned_data,
        )

    def success_message(self, user):
        if user.has_usable_password():
            return _("User %(user)s created.") % {"user": user.email}
        return _("Invitation sent to %(user)s.") % {"user": user.email}


class UserUpdateView(PermissionRequiredMixin, ServiceFormMixin, FormView):
    permission_required = "accounts.change_user"
    template_name = "accounts/user_form.html"
    form_class = UserUpdateForm
    redirect_to = "accounts:user_list"

    def dispatch(self, request, *args, **kwargs):
        try:
            self.user = selectors.user_get(pk=kwargs["pk"])
        except User.DoesNotExist:
            raise Http404("No such user.") from None
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return selectors.user_settings(self.user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(edited_user=self.user, **kwargs)

    def form_save(self, form):
        return services.user_update(user=self.user, by=self.request.user, **form.cleaned_data)

    def success_message(self, written):
        return _("User %(user)s saved.") % {"user": self.user.email}


class RoleListView(PermissionRequiredMixin, TemplateView):
    permission_required = "auth.view_group"
    template_name = "accounts/role_list.html"

    def get_context_data(self, **kwargs):
        roles = [(role, selectors.role_is_builtin(role)) for role in selectors.role_list()]
        return super().get_context_data(roles=roles, **kwargs)


class RoleCreateView(PermissionRequiredMixin, ServiceFormMixin, FormView):
    permission_required = "auth.add_group"
    template_name = "accounts/role_form.html"
    form_class = RoleForm
    redirect_to = "accounts:role_list"

    def form_save(self, form):
        return services.role_create(**form.cleaned_data)

    def success_message(self, role):
        return _("Role %(role)s created.") % {"role": role}


class RoleMixin(PermissionRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        try:
            self.role = selectors.role_get(pk=kwargs["pk"])
        except Group.DoesNotExist:
            raise Http404("No such role.") from None
        self.builtin = selectors.role_is_builtin(self.role)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(role=self.role, builtin=self.builtin, **kwargs)


class RoleUpdateView(RoleMixin, ServiceFormMixin, FormView):
    """Edits a custom role; shows a built-in one read-only (its rights are set in code)."""

    permission_required = "auth.view_group"
    template_name = "accounts/role_form.html"
    form_class = RoleForm
    redirect_to = "accounts:role_list"

    def has_permission(self):
        needed = "auth.view_group" if self.request.method == "GET" else "auth.change_group"
        return self.request.user.has_perm(needed)

    def get_initial(self):
        return {"name": self.role.name, "permissions": [p.pk for p in self.role.permissions.all()]}

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        if self.builtin or not self.request.user.has_perm("auth.change_group"):
            for field in form.fields.values():
                field.disabled = True
        return form

    def form_save(self, form):
        return services.role_update(role=self.role, **form.cleaned_data)

    def success_message(self, role):
        return _("Role %(role)s saved.") % {"role": role}


class RoleDeleteView(RoleMixin, TemplateView):
    """GET asks for confirmation; POST deletes, or explains why it cannot."""

    permission_required = "auth.delete_group"
    template_name = "accounts/role_confirm_delete.html"

    def post(self, request, pk):
        try:
            services.role_delete(role=self.role)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("accounts:role_update", pk=pk)
        messages.success(request, _("Role %(role)s deleted.") % {"role": self.role.name})
        return redirect("accounts:role_list")


class APIKeyListView(PermissionRequiredMixin, FormView):
    """The tenant's API keys: make one (its key is shown once), revoke one."""

    permission_required = api_keys.MANAGE_PERMISSION
    template_name = "accounts/api_key_list.html"
    form_class = APIKeyForm

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            keys=api_keys.api_key_list(),
            api_access=limits.has_feature(self.request.tenant, Feature.API_ACCESS),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            key, raw_key = api_keys.api_key_create(
                by=self.request.user,
                name=form.cleaned_data["name"],
                access=form.cleaned_data["access"],
                user=form.cleaned_data["user"],
            )
        except ValidationError as error:
            add_service_error(form, error)
            return self.form_invalid(form)
        # Rendered, not redirected: the key is in this one answer and nowhere else.
        context = self.get_context_data(form=self.form_class(), new_key=key, raw_key=raw_key)
        return self.render_to_response(context)


class APIKeyRevokeView(PermissionRequiredMixin, View):
    permission_required = api_keys.MANAGE_PERMISSION
    http_method_names = ["post"]

    def post(self, request, pk):
        key = get_object_or_404(api_keys.api_key_list(), pk=pk)
        api_keys.api_key_revoke(key=key, by=request.user)
        messages.success(request, _("API key “%(name)s” revoked.") % {"name": key.name})
        return redirect("accounts:api_key_list")
