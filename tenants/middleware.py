"""
The tenant middleware, one class per rule, in this order at the top of
settings.MIDDLEWARE:

1. TenantRoutingMiddleware picks the tenant from the host;
2. TenantSuspendedMiddleware refuses every request to a suspended tenant;
3. TenantReadOnlyMiddleware refuses changes to a read-only one;
4. TenantTimezoneMiddleware shows the tenant's times in its time zone.

The last two answer before sessions, authentication or any view run: a
refused tenant costs no session lookup.
"""

import functools
import zoneinfo

from django.core.exceptions import DisallowedHost
from django.db import connection
from django.http import HttpResponseNotFound, JsonResponse
from django.http.request import split_domain_port
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.deprecation import MiddlewareMixin
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import remove_www

from tenants import routing
from tenants.models import Domain

# The WSGI environ key holding the schema a request was routed to.
ACCESS_LOG_TENANT = "smartmaintenance.tenant"

# Logging in and out still works on a read-only account.
READ_ONLY_EXEMPT_PATHS = frozenset({"/accounts/login/", "/accounts/logout/"})
# Choosing a plan is how a read-only account becomes writable again.
READ_ONLY_EXEMPT_PREFIXES = ("/settings/billing/",)


@functools.lru_cache(maxsize=routing.MAX_ENTRIES)
def _hostname(host):
    # Memoised: parsing a host costs more than routing it once it is cached.
    # As many as the routing cache holds: with more tenants than that, every
    # host would be parsed again on each request.
    domain, _port = split_domain_port(host)  # lower-cased by Django
    return remove_www(domain)


class TenantRoutingMiddleware(TenantMainMiddleware):
    """
    Selects the tenant (and its schema and URLconf) from the request's host.
    First in settings.MIDDLEWARE: everything after it runs in the tenant's
    schema, and TenantSuspendedMiddleware and TenantReadOnlyMiddleware,
    right after it, read ``request.tenant``.

    On top of django-tenants' middleware: host matching ignores case, port and
    a trailing dot; an unknown host gets a "no such organisation" 404 page.
    The host lookup is cached in process for a few seconds (``tenants.routing``).
    """

    @staticmethod
    def hostname_from_request(request):
        return _hostname(request.get_host())

    def get_tenant(self, domain_model, hostname):
        # A copy for this request: route() sets domain_url on it.
        return routing.tenant_for_hostname(hostname)

    def no_tenant_found(self, request, hostname):
        response = TemplateResponse(
            request, "tenants/not_found.html", {"hostname": hostname}, status=404
        )
        return response.render()

    def route(self, request):
        """
        django-tenants' process_request(), minus its ``set_schema_to_public()``
        before every lookup: a lookup served from the cache needs no schema, and
        one that is not moves to the public schema itself. That saves switching
        the connection to the public schema and back on every request.
        """
        try:
            hostname = self.hostname_from_request(request)
        except DisallowedHost:
            connection.set_schema_to_public()
            return HttpResponseNotFound()
        try:
            tenant = self.get_tenant(Domain, hostname)
        except Domain.DoesNotExist:
            connection.set_schema_to_public()
            return self.no_tenant_found(request, hostname)
        tenant.domain_url = hostname
        request.tenant = tenant
        # For the access log: gunicorn.conf.py prints this WSGI environ entry.
        request.META[ACCESS_LOG_TENANT] = tenant.schema_name
        connection.set_tenant(tenant)
        self.setup_url_routing(request)
        return None

    def process_request(self, request):
        return self.route(request)


def refusal(request, code, title, message):
    """A 403: JSON under ``/api/``, a page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": code, "message": message}, status=403)
    context = {"title": title, "message": message}
    return TemplateResponse(request, "tenants/refused.html", context, status=403).render()


class TenantSuspendedMiddleware(MiddlewareMixin):
    """
    A suspended tenant answers 403 to everything (JSON under ``/api/``).
    Right after TenantRoutingMiddleware in settings.MIDDLEWARE, so before
    sessions, authentication and any view.
    """

    def process_request(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is None or not tenant.is_suspended:
            return None
        message = "This organisation's account is suspended. Please contact its administrator."
        return refusal(request, "tenant_suspended", "Account suspended", message)


class TenantReadOnlyMiddleware(MiddlewareMixin):
    """
    A read-only tenant (trial ended, or cancelled) may be read but refuses
    every change with a 403; logging in and out still work. After
    TenantSuspendedMiddleware in settings.MIDDLEWARE (a suspended tenant's
    refusal says so, not "read-only"), before sessions and any view.
    """

    def process_request(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is None or not tenant.is_read_only or self.allowed_when_read_only(request):
            return None
        message = (
            "This organisation's account is read-only: "
            + ("it was cancelled." if tenant.status == "cancelled" else "its trial ended.")
            + " An administrator can choose a plan to make changes again."
        )
        return refusal(request, "tenant_read_only", "Read-only account", message)

    @staticmethod
    def allowed_when_read_only(request):
        safe = request.method in ("GET", "HEAD", "OPTIONS")
        return (
            safe
            or request.path in READ_ONLY_EXEMPT_PATHS
            or request.path.startswith(READ_ONLY_EXEMPT_PREFIXES)
        )


@functools.lru_cache(maxsize=256)
def _zone(name):
    # ZoneInfo caches too, but a failed lookup (a zone removed from tzdata) would raise each time.
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class TenantTimezoneMiddleware:
    """
    On a tenant's host, templates and forms show and read times in the
    tenant's time zone (``Tenant.timezone``); the main domain stays in UTC.
    After the status middleware in settings.MIDDLEWARE: a refused request
    renders no times. The zone is deactivated after the response, so a
    thread that serves another tenant next never inherits it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        zone = None if tenant is None or tenant.is_public else _zone(tenant.timezone)
        if zone is None:
            return self.get_response(request)
        timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
