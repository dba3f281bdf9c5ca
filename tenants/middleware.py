from django.http import JsonResponse
from django.http.request import split_domain_port
from django.template.response import TemplateResponse
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import remove_www


class TenantRoutingMiddleware(TenantMainMiddleware):
    """
    Selects the tenant (and its schema and URLconf) from the request's host.

    On top of django-tenants' middleware: host matching ignores case, port and
    a trailing dot; an unknown host gets a "no such organisation" 404 page; a
    suspended tenant gets a 403 (JSON under ``/api/``) before any view runs.
    """

    @staticmethod
    def hostname_from_request(request):
        host, _port = split_domain_port(request.get_host())  # lower-cased by Django
        return remove_www(host)

    def no_tenant_found(self, request, hostname):
        response = TemplateResponse(
            request, "tenants/not_found.html", {"hostname": hostname}, status=404
        )
        return response.render()

    def process_request(self, request):
        response = super().process_request(request)
        if response is not None:
            return response
        if request.tenant.is_suspended:
            return self.suspended_response(request)
        return None

    @staticmethod
    def suspended_response(request):
        message = "This organisation's account is suspended. Please contact its administrator."
        if request.path.startswith("/api/"):
            return JsonResponse({"code": "tenant_suspended", "message": message}, status=403)
        response = TemplateResponse(
            request, "tenants/suspended.html", {"message": message}, status=403
        )
        return response.render()
