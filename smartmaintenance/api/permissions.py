from rest_framework import permissions


class KeyAllowsMethod(permissions.BasePermission):
    """A read-only API key may only read."""

    code = "read_only_key"
    message = "This API key is read-only."

    def has_permission(self, request, view):
        key = request.auth
        if getattr(key, "read_only", False):
            return request.method in permissions.SAFE_METHODS
        return True


class HasModelPermission(permissions.DjangoModelPermissions):
    """
    Django's model permissions, reading included: a role without
    ``view_<model>`` does not list it. Views whose rows are filtered per user
    by a selector (requests) use their own rule instead.
    """

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


class ActionPermission(HasModelPermission):
    """
    Django model permissions, except for the actions a view lists in
    ``action_permissions``: an extra action's method says little about what it
    does (POST .../retire/ changes an asset, it adds none).
    """

    def has_permission(self, request, view):
        required = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if required is None:
            return super().has_permission(request, view)
        user = request.user
        return bool(user and user.is_authenticated and user.has_perms(required))
