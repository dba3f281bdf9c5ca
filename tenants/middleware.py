import functools

from django.core.exceptions import DisallowedHost
from django.db import connection
from django.http import HttpResponseNotFound, JsonResponse
from django.http.request import split_domain_port
from django.template.response import TemplateResponse
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import remove_www

from tenants import routing
from tenants.models import Domain

# Logging in and out still works on a read-only account.
READ_ONLY_EXEMPT_PATHS = frozenset({"/accounts/login/", "/accounts/logout/"})


@functools.lru_cache(maxsize=1024)
def _hostname(host):
    # Memoised: parsing a host costs more than routing it once it is cached.
    domain, _port = split_domain_port(host)  # lower-cased by Django
    return remove_www(domain)


class TenantRoutingMiddleware(TenantMainMiddleware):
    """
    Selects the tenant (and its schema and URLconf) from the request's host.

    On top of django-tenants' middleware: host matching ignores case, port and
    a trailing dot; an unknown host gets a "no such organisation" 404 page; a
    suspended tenant gets a 403 (JSON under ``/api/``) before any view runs, and
    a read-only one (trial ended, cancelled) refuses every change. The host
    lookup is cached in process for a few seconds (``tenants.routing``).
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
        connection.set_tenant(tenant)
        self.setup_url_routing(request)
        return None

    def process_request(self, request):
        response = self.route(request)
        if response is not None:
            return response
        if request.tenant.is_suspended:
            return self.suspended_response(request)
        if request.tenant.is_read_only and not self.allowed_when_read_only(request):
            return self.read_only_response(request)
        return None

    @staticmethod
    def allowed_when_read_only(request):
        safe = request.method in ("GET", "HEAD", "OPTIONS")
        return safe or request.path in READ_ONLY_EXEMPT_PATHS

    @classmethod
    def suspended_response(cls, request):
        message = "This organisation's account is suspended. Please contact its administrator."
        return cls.refusal(request, "tenant_suspended", "Account suspended", message)

    @classmethod
    def read_only_response(cls, request):
        message = (
            "This organisation's account is read-only: "
            + ("it was cancelled." if request.tenant.status == "cancelled" else "its trial ended.")
            + " An administrator can choose a plan to make changes again."
        )
        return cls.refusal(request, "tenant_read_only", "Read-only account", message)

    @staticmethod
    def refusal(request, code, title, message):
        if request.path.startswith("/api/"):
            return JsonResponse({"code": code, "message": message}, status=403)
        context = {"title": title, "message": message}
        return TemplateResponse(request, "tenants/refused.html", context, status=403).render()
