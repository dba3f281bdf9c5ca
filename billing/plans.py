"""
The plan catalogue: what each plan costs, caps and unlocks.

``None`` as a limit means unlimited. Whether a tenant may do something is
decided in ``billing.limits``, which reads these plans and the tenant's
overrides; nothing else interprets them. ``tenants`` stores a tenant's plan
code and overrides without knowing these names: ``BillingConfig.ready()``
registers them with ``tenants.validators``.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class PlanCode(models.TextChoices):
    FREE = "free", _("Free")
    BASIC = "basic", _("Basic")
    PREMIUM = "premium", _("Premium")
    ENTERPRISE = "enterprise", _("Enterprise")


class Feature(models.TextChoices):
    API_ACCESS = "api_access", _("REST API access")
    CUSTOM_BRANDING = "custom_branding", _("Custom branding")
    PREVENTIVE_MAINTENANCE = "preventive_maintenance", _("Preventive maintenance")
    REPORTS_EXPORT = "reports_export", _("Report export")
    SLA = "sla", _("SLA due dates and breach alerts")
    WEBHOOKS = "webhooks", _("Outgoing webhooks")
    # Lets the tenant require a second factor of its admins (accounts.two_factor).
    REQUIRE_TWO_FACTOR = "require_two_factor", _("Two-factor authentication required of admins")


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    monthly_price: Decimal | None  # None: priced per contract
    max_users: int | None
    max_assets: int | None
    max_requests_per_month: int | None
    features: frozenset
    # Fairness, not security (see billing.limits.api_rate): calls per minute per API key.
    api_requests_per_minute: int
    # How long the tenant's audit log is kept (audit.services.audit_prune).
    audit_retention_days: int


PLANS = {
    PlanCode.FREE: Plan(
        code=PlanCode.FREE,
        name="Free",
        monthly_price=Decimal("0"),
        max_users=3,
        max_assets=10,
        max_requests_per_month=50,
        features=frozenset(),
        api_requests_per_minute=60,
        audit_retention_days=30,
    ),
    PlanCode.BASIC: Plan(
        code=PlanCode.BASIC,
        name="Basic",
        monthly_price=Decimal("29"),
        max_users=10,
        max_assets=100,
        max_requests_per_month=500,
        features=frozenset({Feature.CUSTOM_BRANDING, Feature.REPORTS_EXPORT}),
        api_requests_per_minute=120,
        audit_retention_days=90,
    ),
    PlanCode.PREMIUM: Plan(
        code=PlanCode.PREMIUM,
        name="Premium",
        monthly_price=Decimal("99"),
        max_users=50,
        max_assets=1000,
        max_requests_per_month=None,
        features=frozenset(
            {
                Feature.CUSTOM_BRANDING,
                Feature.REPORTS_EXPORT,
                Feature.API_ACCESS,
                Feature.PREVENTIVE_MAINTENANCE,
                Feature.SLA,
                Feature.WEBHOOKS,
            }
        ),
        api_requests_per_minute=600,
        audit_retention_days=365,
    ),
    PlanCode.ENTERPRISE: Plan(
        code=PlanCode.ENTERPRISE,
        name="Enterprise",
        monthly_price=None,
        max_users=None,
        max_assets=None,
        max_requests_per_month=None,
        features=frozenset(Feature.values),
        api_requests_per_minute=3000,
        audit_retention_days=730,
    ),
}


# Plans sold through Stripe: those with a price (free is free, enterprise per contract).
PAID_PLAN_CODES = [
    code for code, plan in PLANS.items() if plan.monthly_price and plan.monthly_price > 0
]

# An annual subscription costs ten months.
ANNUAL_MONTHS = 10


def get_plan(code: str) -> Plan:
    return PLANS[PlanCode(code)]


def plan_limits(code: str) -> dict:
    """The tenant fields a plan sets: its limits, which platform admins may then override."""
    plan = get_plan(code)
    return {
        "max_users": plan.max_users,
        "max_assets": plan.max_assets,
        "max_requests_per_month": plan.max_requests_per_month,
    }
