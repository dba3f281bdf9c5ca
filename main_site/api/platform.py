"""
The platform API, on the main domain, for platform admins only
(docs/tenants.md, "Platform API").

Served by the public schema: API keys are looked up there, so only keys of
the platform's own users work, and a tenant's key is simply not found (401).
Every change goes through the services (tenants, billing, main_site) with
``actor="api:<e-mail>"``,
so the audit log says who made it and that it came through the API.
"""

from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import path
from django_tenants.utils import get_public_schema_name
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.settings import api_settings

from billing.services import tenant_change_plan
from main_site.api import platform_serializers as ps
from main_site.services import tenant_signup
from smartmaintenance.api.pagination import PageNumber
from smartmaintenance.api.permissions import KeyAllowsMethod
from tenants import services
from tenants.models import Tenant
from tenants.selectors import tenant_list


class IsPlatformAdmin(permissions.BasePermission):
    """An active staff user of the public schema; anybody else gets 403."""

    message = "Only platform admins may use the platform API."

    def has_permission(self, request, view):
        user = request.user
        return bool(
            # The views are only routed on the main domain; this keeps it so
            # should they ever be included in a tenant's urlconf by mistake.
            connection.schema_name == get_public_schema_name()
            and user
            and user.is_authenticated
            and user.is_active
            and user.is_staff
        )


# IsAuthenticated first, so a call without credentials is a 401, not a 403.
# The tenant plan gate (TenantHasAPIAccess) is left out: the platform has no plan.
PLATFORM_PERMISSIONS = [permissions.IsAuthenticated, KeyAllowsMethod, IsPlatformAdmin]


def _actor(request) -> str:
    return f"api:{request.user.email}"


# Error keys of main_site.services.signup_validate, named as this API names the fields.
_SIGNUP_FIELDS = {"organisation_name": "name"}


def platform_tenant_create(*, name: str, actor: str, **fields) -> Tenant:
    """main_site.services.tenant_signup, with its error keys named as this API names the fields."""
    try:
        return tenant_signup(organisation_name=name, actor=actor, **fields)
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        raise ValidationError(
            {_SIGNUP_FIELDS.get(field, field): messages for field, messages in error}
        ) from error


@extend_schema_view(
    list=extend_schema(summary="List tenants"),
    retrieve=extend_schema(summary="One tenant, with its usage"),
)
@extend_schema(tags=["platform"])
class TenantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """
    The organisations on the platform (not the platform's own tenant), by
    subdomain. The list leaves usage out: counting it takes queries in each
    tenant's schema. See one tenant, or ``/usage/``, for it.
    """

    permission_classes = PLATFORM_PERMISSIONS
    lookup_field = "subdomain"
    lookup_value_regex = "[a-z0-9-]+"
    filterset_fields = ["status", "plan"]
    search_fields = ["name", "subdomain"]
    ordering_fields = ["name", "subdomain", "created", "trial_ends", "plan", "status"]

    def get_queryset(self):
        return tenant_list()

    def get_serializer_class(self):
        if self.action == "list":
            return ps.TenantSerializer
        return ps.TenantDetailSerializer

    def _answer(self, tenant, code=status.HTTP_200_OK):
        return Response(ps.TenantDetailSerializer(tenant).data, status=code)

    @extend_schema(
        summary="Create a tenant",
        request=ps.TenantCreateSerializer,
        responses={201: ps.TenantDetailSerializer},
    )
    def create(self, request):
        """
        Create an organisation as signup does: its schema, built-in roles and
        first admin (who logs in with the given password). All or nothing.
        """
        serializer = ps.TenantCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tenant = platform_tenant_create(**serializer.validated_data, actor=_actor(request))
        return self._answer(tenant, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Override limits and features",
        request=ps.TenantUpdateSerializer,
        responses={200: ps.TenantDetailSerializer},
    )
    def partial_update(self, request, subdomain=None):
        """
        Override the plan's limits (``null``: unlimited) or features. Changing
        the plan later replaces the limit overrides with the new plan's limits.
        """
        tenant = self.get_object()
        serializer = ps.TenantUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.tenant_update(tenant=tenant, actor=_actor(request), **serializer.validated_data)
        return self._answer(tenant)

    @extend_schema(
        summary="Suspend", request=ps.SuspendSerializer, responses={200: ps.TenantDetailSerializer}
    )
    @action(detail=True, methods=["post"])
    def suspend(self, request, subdomain=None):
        """Suspend the organisation: its subdomain answers 403 until reactivated."""
        tenant = self.get_object()
        serializer = ps.SuspendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.tenant_suspend(
            tenant=tenant, reason=serializer.validated_data["reason"], actor=_actor(request)
        )
        return self._answer(tenant)

    @extend_schema(summary="Reactivate", request=None, responses={200: ps.TenantDetailSerializer})
    @action(detail=True, methods=["post"])
    def reactivate(self, request, subdomain=None):
        """Make the organisation active again (from suspended, cancelled or trial)."""
        tenant = self.get_object()
        services.tenant_reactivate(tenant=tenant, actor=_actor(request))
        return self._answer(tenant)

    @extend_schema(
        summary="Change plan",
        request=ps.ChangePlanSerializer,
        responses={200: ps.TenantDetailSerializer},
    )
    @action(detail=True, methods=["post"], url_path="change-plan")
    def change_plan(self, request, subdomain=None):
        """Move to another plan; its limits replace the tenant's, overrides included."""
        tenant = self.get_object()
        serializer = ps.ChangePlanSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tenant_change_plan(
            tenant=tenant, plan=serializer.validated_data["plan"], actor=_actor(request)
        )
        return self._answer(tenant)


class UsagePage(PageNumber):
    """Smaller pages than elsewhere: each tenant on a page costs its own queries."""

    page_size = 20
    max_page_size = 100


@extend_schema(tags=["platform"], summary="Usage of every tenant")
class UsageViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """
    Each tenant's usage against its limits, a page at a time (20 by default,
    at most 100). Usage is counted in each tenant's own schema, about three
    queries per tenant, so a page of N tenants takes about 3N queries: only
    the page asked for is counted, never the whole platform.
    """

    permission_classes = PLATFORM_PERMISSIONS
    serializer_class = ps.TenantUsageSerializer
    pagination_class = UsagePage
    filterset_fields = ["status", "plan"]
    search_fields = ["name", "subdomain"]
    ordering_fields = ["name", "subdomain", "created"]

    def get_queryset(self):
        return tenant_list()


# The schema and its docs page are for platform admins too: the same
# permissions and credentials as the API (a session from /admin/ works in the
# browser). The description of the platform API is not secret, but nobody
# else has a use for it.
PLATFORM_SCHEMA_SETTINGS = {
    "TITLE": "SmartMaintenance platform API",
    "DESCRIPTION": (
        "The platform admins' API, on the main domain at /api/v1/platform/: tenants, "
        "their plans, limits, state and usage. Authenticate with an API key of a "
        "platform admin (`manage.py platform_api_key`) as `Authorization: Bearer smk_…`, "
        "or the admin session. Errors share one format (the Error schema). "
        "See docs/tenants.md."
    ),
}


class PlatformSchemaView(SpectacularAPIView):
    """The OpenAPI schema of the main domain's API."""

    urlconf = "smartmaintenance.urls_public"
    custom_settings = PLATFORM_SCHEMA_SETTINGS
    # drf-spectacular serves schemas without authentication (SERVE_AUTHENTICATION).
    authentication_classes = api_settings.DEFAULT_AUTHENTICATION_CLASSES
    permission_classes = PLATFORM_PERMISSIONS


class PlatformDocsView(SpectacularSwaggerView):
    authentication_classes = api_settings.DEFAULT_AUTHENTICATION_CLASSES
    permission_classes = PLATFORM_PERMISSIONS


router = SimpleRouter()
router.register("tenants", TenantViewSet, basename="tenant")
router.register("usage", UsageViewSet, basename="usage")

urlpatterns = [
    *router.urls,
    path("schema/", PlatformSchemaView.as_view(), name="schema"),
    path("docs/", PlatformDocsView.as_view(url_name="platform-api:schema"), name="docs"),
]
