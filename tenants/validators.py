import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
SUBDOMAIN_MIN_LENGTH = 3
SUBDOMAIN_MAX_LENGTH = 63

# Names that belong to the platform, or that could be mistaken for one of its
# services or for a PostgreSQL system schema.
RESERVED_SUBDOMAINS = frozenset(
    {
        "www", "admin", "api", "app", "public", "static", "media", "mail", "billing",
        "status", "help", "support", "docs", "information-schema", "information_schema",
        "pg-catalog", "pg-toast", "template", "root", "postgres", "stripe", "signup",
        "login", "dashboard", "blog", "smtp", "ftp", "cdn", "assets", "test",
    }
)  # fmt: skip


def validate_subdomain(value: str) -> None:
    """Explain why ``value`` cannot name an organisation, or return None."""
    if value != value.lower():
        raise ValidationError(_("Use lower-case letters only."), code="uppercase")
    if not SUBDOMAIN_MIN_LENGTH <= len(value) <= SUBDOMAIN_MAX_LENGTH:
        raise ValidationError(
            _("A subdomain has %(min)d to %(max)d characters."),
            code="length",
            params={"min": SUBDOMAIN_MIN_LENGTH, "max": SUBDOMAIN_MAX_LENGTH},
        )
    if value.startswith("-") or value.endswith("-"):
        raise ValidationError(_("A subdomain cannot start or end with a hyphen."), code="hyphen")
    if not SUBDOMAIN_RE.match(value):
        raise ValidationError(
            _("Use only lower-case letters, digits and hyphens."), code="invalid_characters"
        )
    # pg-… reads like one of the pg_… schemas PostgreSQL keeps for itself.
    if value in RESERVED_SUBDOMAINS or value.startswith("pg-"):
        raise ValidationError(
            _("“%(value)s” is reserved. Please choose another subdomain."),
            code="reserved",
            params={"value": value},
        )


# A tenant stores its plan's code and its feature overrides, but the names
# are billing's (billing.plans), an app above this one: BillingConfig.ready()
# registers them here, so tenants can offer them as choices and check them
# without importing it.
_plan_choices: list[tuple[str, str]] = []
_feature_names: list[str] = []


def plan_vocabulary_register(*, plan_choices, feature_names) -> None:
    """Name the plans (``(code, label)`` pairs) and features a tenant may have."""
    _plan_choices[:] = list(plan_choices)
    _feature_names[:] = list(feature_names)


def plan_choices() -> list[tuple[str, str]]:
    """The choices of ``Tenant.plan``: the plans billing registered."""
    return list(_plan_choices)


def validate_feature_overrides(value) -> None:
    """Overrides name registered plan features (billing.plans.Feature) and turn them on or off."""
    if not isinstance(value, dict):
        raise ValidationError(_('Give an object such as {"api_access": true}.'), code="invalid")
    unknown = sorted(set(value) - set(_feature_names))
    if unknown:
        raise ValidationError(
            _("Unknown feature(s): %(unknown)s. Choose from: %(known)s."),
            code="unknown_feature",
            params={"unknown": ", ".join(unknown), "known": ", ".join(_feature_names)},
        )
    if not all(isinstance(enabled, bool) for enabled in value.values()):
        raise ValidationError(_("Each feature is turned on or off: true or false."), code="invalid")
