"""
Forms of the tenant admin's user and role pages: input parsing only. The
rules (seats, the last Admin, reserved role names) live in accounts.services.
"""

from django import forms
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext_lazy as _

from accounts.models import APIKey, NotificationPreference, Trade, User
from accounts.roles import MANAGE_ALL_REQUESTS, WORK_ON_REQUESTS, WORKFLOW_PERMISSIONS
from accounts.selectors import role_assignable_permissions, role_is_builtin

# Shown under the two permissions the request workflow keys on.
WORKFLOW_HELP = {
    MANAGE_ALL_REQUESTS: _(
        "Makes a lead: sees every request and may triage, assign, re-prioritise and close "
        "it, like the built-in Admin and Manager roles."
    ),
    WORK_ON_REQUESTS: _(
        "Makes someone assignable: requests can be assigned to them, and they see the "
        "unassigned requests of their trades, like the built-in Technician role."
    ),
}


def permission_key(permission: Permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


class RoleChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(queryset=Group.objects.order_by("name"), required=False, **kwargs)

    def label_from_instance(self, obj):
        return f"{obj.name} (built-in)" if role_is_builtin(obj) else obj.name


class TradesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(
            choices=Trade.choices,
            required=False,
            help_text=_("Technicians see the unassigned requests of their trades."),
            **kwargs,
        )


def _password_field(label, help_text):
    # Optional: user_invite and user_update leave the password alone without one.
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=help_text,
    )


class UserCreateForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    roles = RoleChoiceField(
        label=_("Roles"),
        help_text=_("Requester-only users are free; any other combination takes a seat."),
    )
    trades = TradesField(label=_("Trades"))
    password = _password_field(
        _("Initial password"),
        _(
            "Leave empty to e-mail an invitation: a link, valid for 7 days, where they "
            "choose their own password."
        ),
    )


class UserUpdateForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    roles = RoleChoiceField(label=_("Roles"))
    trades = TradesField(label=_("Trades"))
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        help_text=_("Deactivated users cannot log in; their requests and history stay."),
    )
    password = _password_field(_("Set a new password"), _("Leave empty to keep the current one."))


class PermissionChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj):
        return obj.name


class RoleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    permissions = PermissionChoiceField(
        label=_("Permissions"), queryset=Permission.objects.none(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permissions"].queryset = role_assignable_permissions()

    def permission_groups(self):
        """
        The permission checkboxes as ``[(heading, [(checkbox, help), ...]), ...]``:
        the two workflow permissions first, with what they mean, then the rest
        by app. Each checkbox appears once.
        """
        workflow, by_app = [], {}
        for checkbox in self["permissions"]:
            checkbox.data["attrs"]["class"] = "form-check-input"
            permission = checkbox.data["value"].instance
            key = permission_key(permission)
            if key in WORKFLOW_PERMISSIONS:
                workflow.append((checkbox, WORKFLOW_HELP[key]))
            else:
                by_app.setdefault(permission.content_type.app_label, []).append((checkbox, ""))
        groups = [(_("Request workflow"), workflow)] if workflow else []
        groups += [
            (apps.get_app_config(label).verbose_name, checkboxes)
            for label, checkboxes in by_app.items()
        ]
        return groups


class APIKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What uses it, e.g. “Zapier” or “BMS sync”.")
    )
    access = forms.ChoiceField(
        label=_("Access"), choices=APIKey.Access, initial=APIKey.Access.READ_ONLY
    )
    user = forms.ModelChoiceField(
        label=_("Acts as"),
        queryset=None,
        required=False,
        empty_label=_("Me"),
        help_text=_(
            "The key has this person's roles. Give an integration its own account with "
            "only the role it needs."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(is_active=True)


class NotificationPreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = NotificationPreference.KINDS


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
