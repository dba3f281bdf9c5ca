"""
Who is acting and from where, for the entries written during a request.

The middleware puts the request in a context variable, so a service deep
below the view records the client's address without every signature
carrying the request.
"""

from contextvars import ContextVar

from axes.helpers import get_client_ip_address

_request: ContextVar = ContextVar("audit_request", default=None)


def current_request():
    return _request.get()


def request_origin(request) -> dict:
    """The client address and user agent of ``request`` (empty outside a request)."""
    if request is None:
        return {"ip_address": None, "user_agent": ""}
    return {
        "ip_address": get_client_ip_address(request) or None,
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
    }


def request_actor(request):
    """The signed-in user of ``request`` (an API key's user too), or None."""
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None and user.is_authenticated else None


class AuditContextMiddleware:
    """Makes the current request known to ``audit.services.audit_record``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)
