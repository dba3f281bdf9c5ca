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
