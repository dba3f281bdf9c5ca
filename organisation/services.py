"""
Writes of the organisation's settings pages: its details and its branding.
The SLA targets are requests_app's (``request_settings_update``).
"""

from pathlib import PurePosixPath

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context

from attachments.content import attachment_validate_file
from billing import limits
from billing.plans import Feature
from tenants.branding import validate_primary_color
from tenants.models import Tenant
from tenants.services import tenant_update

LOGO_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
MAX_LOGO_SIZE = 1024 * 1024  # a header logo needs far less; keeps pages light


def organisation_update(
    *,
    tenant: Tenant,
    by,
    name: str,
    timezone: str,
    contact_name: str = "",
    contact_phone: str = "",
    billing_email: str = "",
) -> Tenant:
    """Change the organisation's name, time zone and contact details (audited)."""
    return tenant_update(
        tenant=tenant,
        actor=by.email,
        action="settings",
        name=name.strip(),
        timezone=timezone,
        contact_name=contact_name,
        contact_phone=contact_phone,
        billing_email=billing_email,
    )


def _logo_check(logo) -> str:
    """The logo's clean file name; the attachment rules first, then images only, 1 MB."""
    try:
        name, content_type = attachment_validate_file(logo)
    except ValidationError as error:
        raise ValidationError({"logo": error.messages}) from None
    if content_type not in LOGO_TYPES:
        raise ValidationError({"logo": _("The logo must be a PNG, JPEG, WebP or GIF image.")})
    if logo.size > MAX_LOGO_SIZE:
        raise ValidationError({"logo": _("The logo may be at most 1 MB.")})
    return name


def branding_update(
    *, tenant: Tenant, by, primary_color: str, logo=None, remove_logo: bool = False
) -> Tenant:
    """
    Set the tenant's primary colour and, optionally, a new logo or none.
    Refused, with nothing written, when the plan lacks custom branding, when
    white text on the colour would be too hard to read, or when the logo is
    not a small image. Logos live in the public schema's storage, like the
    platform admin's uploads (tenants.exports copies them from there).
    """
    limits.require_feature(tenant, Feature.CUSTOM_BRANDING)
    primary_color = (primary_color or "").strip().lower()
    try:
        validate_primary_color(primary_color)
    except ValidationError as error:
        raise ValidationError({"primary_color": error.messages}) from None
    values = {"primary_color": primary_color}
    old_logo = tenant.logo.name if tenant.logo else ""
    stored = ""
    if logo is not None:
        suffix = PurePosixPath(_logo_check(logo)).suffix.lower()
        with schema_context(get_public_schema_name()):
            stored = default_storage.save(f"branding/{tenant.schema_name}{suffix}", logo)
        values["logo"] = stored
    elif remove_logo:
        values["logo"] = ""
    try:
        tenant_update(tenant=tenant, actor=by.email, action="branding", **values)
    except ValidationError:
        if stored:
            with schema_context(get_public_schema_name()):
                default_storage.delete(stored)
        raise
    if old_logo and "logo" in values and values["logo"] != old_logo:
        with schema_context(get_public_schema_name()):
            default_storage.delete(old_logo)
    return tenant
