from urllib.parse import urlencode

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse

from accounts.two_factor.rules import two_factor_required, user_has_two_factor

# What a session may reach before its second factor: these pages, logging out.
OPEN_NAMESPACES = {"two_factor"}
OPEN_NAMES = {"logout"}


class TwoFactorMiddleware:
    """
    A signed-in session whose user has a device, or must have one, reaches
    only the two-factor pages (and logging out) until it passed them: the
    code is asked after the password, whichever login form took it. API keys
    are not sessions and are not concerned.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified() or self._open(request):
            return self.get_response(request)
        if user_has_two_factor(user):
            step = "two_factor:verify"
        elif two_factor_required(user, getattr(request, "tenant", None)):
            step = "two_factor:enrol"
        else:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "code": "two_factor_required",
                    "message": "Finish two-factor authentication in the browser first.",
                },
                status=403,
            )
        url = reverse(step, urlconf=getattr(request, "urlconf", None))
        return redirect(f"{url}?{urlencode({'next': request.get_full_path()})}")

    @staticmethod
    def _open(request) -> bool:
        if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return True
        try:
            match = resolve(request.path_info, urlconf=getattr(request, "urlconf", None))
        except Resolver404:
            return False
        return bool(set(match.namespaces) & OPEN_NAMESPACES) or match.url_name in OPEN_NAMES
