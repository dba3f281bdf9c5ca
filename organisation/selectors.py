"""Reads for the organisation's settings and its branding on every page."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from accounts import api_keys
from accounts.selectors import user_is_tenant_admin
from billing import limits
from billing.models import MANAGE_BILLING
from billing.plans import Feature
from tenants.branding import branding_version, has_custom_branding


def branding_for(tenant) -> dict | None:
    """
    What base.html needs to show the tenant's brand: its stylesheet's URL
    and its logo's, both versioned so browsers may cache them for good.
    None when the tenant shows the product's own look (public site, no
    custom branding, or a plan without the feature). No query.
    """
    if tenant is None or tenant.is_public:
        return None
    if not limits.has_feature(tenant, Feature.CUSTOM_BRANDING) or not has_custom_branding(tenant):
        return None
    version = branding_version(tenant)
    return {
        "css_url": reverse("branding_css", args=[version]),
        "logo_url": reverse("branding_logo", args=[version]) if tenant.logo else "",
        "primary_color": tenant.primary_color,
        "version": version,
    }


def _billing_plan_url() -> str:
    # The plan page is billing's to build; the link appears once its URL exists.
    try:
        return reverse("billing:plan")
    except NoReverseMatch:
        return ""


def settings_sections(user) -> list[tuple[str, str, str, str]]:
    """
    The settings pages ``user`` may open, in menu order, as ``(key, url,
    label, icon)``: the side menu shows them, /settings/ opens the first.
    """
    admin = user_is_tenant_admin(user)
    candidates = [
        ("organisation", "organisation:organisation", _("Organisation"), "building", admin),
        ("branding", "organisation:branding", _("Branding"), "palette", admin),
        (
            "requests",
            "organisation:requests",
            _("SLA and auto-close"),
            "stopwatch",
            user.has_perm("requests_app.change_requestsettings"),
        ),
        ("users", "accounts:user_list", _("Users"), "people", user.has_perm("accounts.view_user")),
        (
            "roles",
            "accounts:role_list",
            _("Roles"),
            "shield-lock",
            user.has_perm("auth.view_group"),
        ),
        (
            "api_keys",
            "accounts:api_key_list",
            _("API keys"),
            "key",
            user.has_perm(api_keys.MANAGE_PERMISSION),
        ),
        (
            "webhooks",
            "webhooks:endpoint_list",
            _("Webhooks"),
            "broadcast",
            user.has_perm("webhooks.view_webhookendpoint"),
        ),
        (
            "security",
            "two_factor:requirement",
            _("Security"),
            "shield-check",
            user.has_perm("accounts.change_user"),
        ),
        (
            "audit",
            "audit:log",
            _("Audit log"),
            "journal-text",
            user.has_perm("audit.view_auditentry"),
        ),
    ]
    sections = [
        (key, reverse(name), label, icon)
        for key, name, label, icon, allowed in candidates
        if allowed
    ]
    billing_url = _billing_plan_url()
    # The plan page's own check (billing.views), so a role given billing
    # without being Admin finds the page, and an Admin without it does not.
    if billing_url and user.has_perm(MANAGE_BILLING):
        sections.append(("billing", billing_url, _("Plan and billing"), "credit-card"))
    return sections
