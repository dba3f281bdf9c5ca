"""
Plan limits and feature gates: the one module that decides what a tenant's
plan allows. Services call ``reserve`` before creating a counted object and
``require_feature`` before using a gated feature; the web UI, the API, admin
and commands all go through those services, so they all agree.

What is counted lives in the apps above billing: each registers a usage
counter for its resource in its ``AppConfig.ready()``
(``usage_counter_register``), so billing counts users, assets and requests
without importing the apps that own them.
"""

import zoneinfo
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tenants.utils import tenant_context

from billing.plans import Feature, get_plan


class Resource(models.TextChoices):
    USERS = "users", _("users")
    ASSETS = "assets", _("assets")
    REQUESTS = "requests", _("requests this month")


LIMIT_FIELDS = {
    Resource.USERS: "max_users",
    Resource.ASSETS: "max_assets",
    Resource.REQUESTS: "max_requests_per_month",
}


class PlanLimitReached(ValidationError):
    code = "plan_limit_reached"
    status_code = 403  # the API answers 403: the plan refuses, not the input

    def __init__(self, tenant, resource, limit):
        self.resource = Resource(resource)
        self.limit = limit
        super().__init__(
            _(
                "Your %(plan)s plan allows %(limit)d %(resource)s. "
                "Upgrade your plan or remove some to add more."
            ),
            code=self.code,
            params={"plan": tenant.get_plan_display(), "limit": limit, "resource": resource.label},
        )


class FeatureNotInPlan(ValidationError):
    code = "feature_not_in_plan"
    status_code = 403

    def __init__(self, tenant, feature):
        self.feature = Feature(feature)
        super().__init__(
            _("%(feature)s is not included in your %(plan)s plan."),
            code=self.code,
            params={"feature": self.feature.label, "plan": tenant.get_plan_display()},
        )


def limit_for(tenant, resource) -> int | None:
    return getattr(tenant, LIMIT_FIELDS[Resource(resource)])


def month_start(tenant, now=None):
    """Midnight on the first of the current month, in the tenant's time zone."""
    local_now = (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(tenant.timezone))
    return local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


# resource -> function(tenant, now) counting it in the current schema.
_usage_counters: dict[Resource, Callable] = {}


def usage_counter_register(resource, counter: Callable) -> None:
    """
    Count ``resource`` with ``counter(tenant, now)``, called with the
    connection in the tenant's schema. The app owning the resource calls
    this from its ``AppConfig.ready()``.
    """
    _usage_counters[Resource(resource)] = counter


def usage(tenant, resource, now=None) -> int:
    counter = _usage_counters[Resource(resource)]
    if connection.schema_name == tenant.schema_name:
        return counter(tenant, now)
    with tenant_context(tenant):
        return counter(tenant, now)


def can_add(tenant, resource, count=1) -> bool:
    limit = limit_for(tenant, resource)
    return limit is None or usage(tenant, resource) + count <= limit


def reserve(tenant, resource, count=1) -> None:
    """
    Raise PlanLimitReached unless ``count`` more objects fit the plan.

    Call inside the transaction that creates them: the advisory lock makes
    concurrent creations of one resource in one tenant wait for each other
    until that transaction ends, so parallel requests cannot overshoot.
    """
    limit = limit_for(tenant, resource)
    if limit is None:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            [list(Resource).index(Resource(resource)) + 1, tenant.pk],
        )
    if usage(tenant, resource) + count > limit:
        raise PlanLimitReached(tenant, Resource(resource), limit)


def has_feature(tenant, feature) -> bool:
    feature = Feature(feature)
    if feature.value in tenant.feature_overrides:
        return bool(tenant.feature_overrides[feature.value])
    return feature in get_plan(tenant.plan).features


def features_enabled(tenant) -> list[str]:
    """The features ``tenant`` has: its plan's, with the platform's overrides applied."""
    return [feature.value for feature in Feature if has_feature(tenant, feature)]


def require_feature(tenant, feature) -> None:
    if not has_feature(tenant, feature):
        raise FeatureNotInPlan(tenant, feature)


def api_rate(tenant) -> str:
    """
    The API rate limit of ``tenant`` per key, as DRF's "N/min". A platform
    admin may override the plan's figure with ``settings["api_requests_per_minute"]``.
    """
    override = (tenant.settings or {}).get("api_requests_per_minute")
    per_minute = override if override is not None else get_plan(tenant.plan).api_requests_per_minute
    return f"{int(per_minute)}/min"


def usage_stats(tenant) -> dict:
    """Usage against limits, e.g. ``{"users": {"used": 2, "limit": 3}, ...}``."""
    return {
        resource.value: {"used": usage(tenant, resource), "limit": limit_for(tenant, resource)}
        for resource in Resource
    }
