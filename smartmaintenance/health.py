"""
``/healthz``: whether this web process can serve, for load balancers and
orchestrators. It answers on every host, the main domain and each tenant's
alike, before tenant routing (first in settings.MIDDLEWARE), so a probe
needs no tenant, costs no routing lookup, and is not refused by a
suspended tenant's middleware.

200 when PostgreSQL answers ``SELECT 1`` and the Celery broker answers
``PING``; 503 otherwise. The JSON body says which failed (never why: error
texts can carry hosts and user names).
"""

import logging

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import JsonResponse

from smartmaintenance import embedded_redis

PATHS = frozenset({"/healthz", "/healthz/"})
BROKER_TIMEOUT_SECONDS = 1.0

logger = logging.getLogger(__name__)


def database_ok(alias: str = "default") -> bool:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        logger.warning("healthz: database %r does not answer", alias, exc_info=True)
        # A broken connection must not be handed to the next request.
        connections[alias].close_if_unusable_or_obsolete()
        return False


def broker_ok() -> bool:
    return embedded_redis.answers(settings.CELERY_BROKER_URL, timeout=BROKER_TIMEOUT_SECONDS)


def health() -> tuple[int, dict]:
    checks = {"database": database_ok(), "broker": broker_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    body.update({name: "ok" if ok else "unavailable" for name, ok in checks.items()})
    return (200 if healthy else 503), body


class HealthCheckMiddleware:
    """Answers ``/healthz`` on any host, before everything else in settings.MIDDLEWARE."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info not in PATHS:
            return self.get_response(request)
        status, body = health()
        response = JsonResponse(body, status=status)
        response["Cache-Control"] = "no-store"
        return response
