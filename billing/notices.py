"""
Billing's e-mails to an organisation: its admins (those who may manage
billing) and its billing e-mail. Sent with ``send_mail``: the outbox backend
stores them with the change that caused them and the worker delivers them.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import Q
from django_tenants.utils import tenant_context

from billing.models import MANAGE_BILLING


def billing_admins(tenant=None):
    """Active users of the current schema who may manage billing (the Admin role holds it)."""
    app_label, codename = MANAGE_BILLING.split(".")
    granted = Q(
        groups__permissions__content_type__app_label=app_label,
        groups__permissions__codename=codename,
    ) | Q(
        user_permissions__content_type__app_label=app_label,
        user_permissions__codename=codename,
    )
    return (
        get_user_model().objects.filter(granted | Q(is_superuser=True), is_active=True).distinct()
    )


def billing_recipients(tenant) -> list[str]:
    """The addresses billing notices go to: the tenant's admins and its billing e-mail."""
    with tenant_context(tenant):
        addresses = set(billing_admins().values_list("email", flat=True))
    if tenant.billing_email:
        addresses.add(tenant.billing_email)
    return sorted(address for address in addresses if address)


def notice_send(tenant, *, subject: str, body: str) -> int:
    recipients = billing_recipients(tenant)
    if not recipients:
        return 0
    link = f"https:{tenant.url}settings/billing/"
    return send_mail(
        f"[{tenant.name}] {subject}",
        f"{body}\n\nYour plan and billing: {link}\n",
        settings.DEFAULT_FROM_EMAIL,
        recipients,
    )
