"""
Signup: an organisation (tenants), on a plan (billing), with its built-in
roles and first admin (accounts), all or nothing. It spans those apps, so it
lives here, above them all.
"""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_tenants.utils import tenant_context

from accounts.models import User
from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from billing.plans import PlanCode
from billing.services import tenant_create
from tenants.models import Tenant
from tenants.services import subdomain_validate_available


def signup_validate(
    *,
    organisation_name: str,
    subdomain: str,
    admin_name: str,
    admin_email: str,
    admin_password: str,
    plan: str,
) -> None:
    """
    Check every signup field before anything is written, and raise one
    ValidationError naming each field at fault.
    """
    errors = {}
    if not organisation_name.strip():
        errors["organisation_name"] = ["Enter your organisation's name."]
    if not admin_name.strip():
        errors["admin_name"] = ["Enter your name."]
    if plan not in PlanCode.values:
        errors["plan"] = [f"Choose one of: {', '.join(PlanCode.values)}."]
    checks = {
        "subdomain": lambda: subdomain_validate_available(subdomain),
        "admin_email": lambda: validate_email(admin_email),
        "admin_password": lambda: validate_password(
            admin_password, User(email=admin_email, full_name=admin_name)
        ),
    }
    for field, check in checks.items():
        try:
            check()
        except ValidationError as error:
            errors[field] = error.messages
    if errors:
        raise ValidationError(errors)


# What a platform admin may start an organisation in: a trial, as self-service
# signup, or active (a signed contract).
SIGNUP_STATUSES = (Tenant.Status.TRIAL, Tenant.Status.ACTIVE)


@transaction.atomic
def tenant_signup(
    *,
    organisation_name: str,
    subdomain: str,
    admin_name: str,
    admin_email: str,
    admin_password: str,
    plan: str = PlanCode.FREE,
    status: str = Tenant.Status.TRIAL,
    actor: str | None = None,
) -> Tenant:
    """
    Signup: a tenant (in trial, unless a platform admin chooses ``status``)
    on ``plan``, with its domain, schema, built-in roles and first admin,
    marked onboarded. ``actor`` is who the audit log names: the new admin for
    self-service signup, the platform admin otherwise. Atomic: any failure
    leaves no tenant row, no domain and no schema.
    """
    if status not in SIGNUP_STATUSES:
        raise ValidationError(
            {"status": _("A new organisation starts in trial or active.")}, code="invalid_status"
        )
    signup_validate(
        organisation_name=organisation_name,
        subdomain=subdomain,
        admin_name=admin_name,
        admin_email=admin_email,
        admin_password=admin_password,
        plan=plan,
    )
    tenant = tenant_create(
        name=organisation_name.strip(),
        subdomain=subdomain,
        plan=plan,
        status=status,
        billing_email=admin_email,
        contact_name=admin_name.strip(),
        actor=actor or admin_email,
    )
    with tenant_context(tenant):
        roles = roles_provision_defaults()
        user_create(
            email=admin_email,
            password=admin_password,
            full_name=admin_name.strip(),
            roles=[roles[BuiltinRole.ADMIN]],
        )
    tenant.onboarded = True
    tenant.save(update_fields=["onboarded", "updated"])
    return tenant
