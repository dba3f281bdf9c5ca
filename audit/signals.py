"""Logins in the audit log, from Django's auth signals and axes' lockout signal."""

from django_tenants.utils import tenant_context

from audit.models import Action
from audit.services import audit_record


def login_succeeded(sender, request, user, **kwargs):
    audit_record(action=Action.LOGIN, actor=user, request=request)


def login_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked the password; the e-mail typed is what we know.
    audit_record(
        action=Action.LOGIN_FAILED,
        actor=None,
        actor_email=str(credentials.get("username") or credentials.get("email") or ""),
        request=request,
    )


def logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action=Action.LOGOUT, actor=user, request=request)


def locked_out(sender, request, username, ip_address, **kwargs):
    audit_record(
        action=Action.LOCKED_OUT,
        actor=None,
        actor_email=str(username or ""),
        request=request,
        changes={"ip_address": ip_address},
    )


def tenant_exported(sender, tenant, path, **kwargs):
    # Exports are the platform operator's (manage.py tenant_export, before a
    # deletion): no user of the tenant acts, so the entry names the platform.
    with tenant_context(tenant):
        audit_record(
            action=Action.EXPORTED,
            actor=None,
            actor_email="platform operator",
            target_type="export",
            changes={"file": path.name},
        )
