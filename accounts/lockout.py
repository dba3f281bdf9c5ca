"""
Login lockout with django-axes: the settings' hooks, and unlocking.

Attempts live in the schema of the host they were made on, like the users
they are about (docs/security.md): ``alice@…`` locked out at acme says
nothing about an ``alice@…`` at another organisation, and an admin unlocks
only their own tenant's users.

Password logins (each tenant's, and the platform admin's /admin/login/) are
locked per account and per client address: five failures of either lock it
(``AXES_FAILURE_LIMIT``) until ``AXES_COOLOFF_TIME`` after the last one. API
keys are locked per client address only (``api_key_failed``): locking a key
prefix, which the UI shows, would let anyone lock out an integration.
"""

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib.auth import user_login_failed
from django.db import transaction
from django.db.models import Sum
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.models import User
from audit.models import Action
from audit.services import audit_record

API_KEY_CREDENTIAL = "api_key_prefix"


class LockoutBackend(AxesStandaloneBackend):
    """
    axes' check before the password, for every login that passes the request
    (every login form does). ``authenticate()`` without a request (a shell,
    the test client's ``login()``) has no client address to lock and is
    left to the next backend.
    """

    def authenticate(self, request=None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_parameters(request_or_attempt, credentials=None):
    """``AXES_LOCKOUT_PARAMETERS``: account or address for logins, address for API keys."""
    if credentials and API_KEY_CREDENTIAL in credentials:
        return ["ip_address"]
    return ["username", "ip_address"]


def lockout_username(request, credentials=None) -> str | None:
    """
    ``AXES_USERNAME_CALLABLE``: the address typed, lower-cased. Logins match
    e-mail addresses whatever their case, so ``ALICE@…`` must count against
    the same account as ``alice@…``, or each spelling would get its own tries.
    """
    if credentials:
        username = credentials.get("username")
    else:
        username = request.POST.get("username") if request is not None else None
    return username.strip().lower() if isinstance(username, str) else username


def client_ip(request) -> str | None:
    """
    ``AXES_CLIENT_IP_CALLABLE``: the client's address. Behind ``NUM_PROXIES``
    proxies, the one the nearest of them saw (the same trust the API's
    throttle gives ``X-Forwarded-For``); otherwise the socket's address.
    """
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR")


def retry_at():
    """When a client locked out now may try again (each failure restarts the cool-off)."""
    return timezone.now() + get_cool_off()


def lockout_response(request, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: the page (or API error) that says when to try again."""
    when = retry_at()
    seconds = int(get_cool_off().total_seconds())
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "code": "locked_out",
                "message": (
                    "Too many failed attempts from this address. "
                    f"Try again after {when:%Y-%m-%d %H:%M} UTC."
                ),
            },
            status=429,
        )
    else:
        response = render(
            request,
            "accounts/lockout.html",
            {"retry_at": when, "minutes": max(1, seconds // 60)},
            status=429,
        )
    response["Retry-After"] = str(seconds)
    return response


def api_key_is_locked(request) -> bool:
    """Whether the client of ``request`` is locked out of API-key authentication."""
    return AxesProxyHandler.is_locked(request, {API_KEY_CREDENTIAL: ""})


def api_key_failed(request, prefix: str) -> None:
    """Count a wrong API key against the client's address (axes listens to the signal)."""
    user_login_failed.send(
        sender=__name__,
        credentials={"username": f"api-key:{prefix[:20]}", API_KEY_CREDENTIAL: prefix[:20]},
        request=request,
    )


def user_is_locked_out(user: User) -> bool:
    """Whether ``user``'s account is locked out now, from whatever address."""
    since = timezone.now() - get_cool_off()
    failures = AccessAttempt.objects.filter(username=user.email, attempt_time__gte=since).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return (failures or 0) >= settings.AXES_FAILURE_LIMIT


@transaction.atomic
def user_unlock(*, user: User, by: User) -> int:
    """
    Clear ``user``'s failed attempts (so the account is no longer locked);
    return how many records were cleared. Addresses locked by their own
    failures stay locked until their cool-off ends.
    """
    cleared = reset(username=user.email)
    audit_record(action=Action.UNLOCKED, target=user, actor=by, changes={"attempts": cleared})
    return cleared
