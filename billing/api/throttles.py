from django.db import connection
from django_tenants.utils import get_public_schema_name
from rest_framework.throttling import SimpleRateThrottle

from billing import limits


class PlanRateThrottle(SimpleRateThrottle):
    """
    Calls per minute per API key (per user for the web UI's session, per
    address when anonymous), at the rate of the tenant's plan. A refusal is
    a 429 with ``Retry-After``. Counts live in the cache, under keys that
    carry the schema name; use a shared cache (``CACHE_URL``) with several
    workers. Throttling keeps tenants fair; it is not a security control.
    """

    scope = "api"
    PLATFORM_RATE = "600/min"

    def __init__(self):
        # The rate depends on the tenant, known only per request.
        pass

    def allow_request(self, request, view):
        if connection.schema_name == get_public_schema_name():
            self.rate = self.PLATFORM_RATE
        else:
            self.rate = limits.api_rate(connection.tenant)
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        key = request.auth
        if key is not None and hasattr(key, "prefix"):
            ident = f"key:{key.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
