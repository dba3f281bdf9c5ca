"""Writing the audit log: called by the services that make the changes, in their transaction."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from audit.context import current_request, request_actor, request_origin
from audit.models import Action, AuditEntry

_FROM_REQUEST = object()


def _plain(value):
    """A value JSON can hold: model instances and sets become text and lists."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    return str(value)


def changes_between(before: dict, after: dict) -> dict:
    """``{"field": [old, new]}`` for each key whose value differs."""
    return {
        key: [_plain(before.get(key)), _plain(after.get(key))]
        for key in sorted(set(before) | set(after))
        if _plain(before.get(key)) != _plain(after.get(key))
    }


def audit_record(
    *,
    action: str,
    target=None,
    target_type: str = "",
    changes: dict | None = None,
    actor=_FROM_REQUEST,
    actor_email: str = "",
    request=_FROM_REQUEST,
) -> AuditEntry:
    """
    Record ``action`` in the current schema's log. Call it inside the
    transaction of the change, so the entry and the change commit together.

    The actor and the client's address default to the current request's
    (``audit.context``); pass ``actor=None`` for work done by the system,
    or an e-mail alone when there is no user (a failed login).
    """
    request = current_request() if request is _FROM_REQUEST else request
    if actor is _FROM_REQUEST:
        actor = request_actor(request)
    entry = AuditEntry(
        action=Action(action),
        actor_id=getattr(actor, "pk", None),
        actor_email=(getattr(actor, "email", "") or actor_email)[:254],
        changes=_plain(changes or {}),
        **request_origin(request),
    )
    if target is not None:
        entry.target_type = target_type or target._meta.model_name
        entry.target_id = str(target.pk)
        entry.target_repr = str(target)[:200]
    else:
        entry.target_type = target_type
    entry.save()
    return entry


# Retention: billing knows each plan's period and registers it here (billing is
# above audit in the layers, so that its plan changes can be recorded).
DEFAULT_RETENTION_DAYS = 90
_retention_days = None


def retention_days_register(days_for_tenant) -> None:
    """``days_for_tenant(tenant) -> int``: how long ``tenant`` keeps its log."""
    global _retention_days
    _retention_days = days_for_tenant


def retention_days(tenant) -> int:
    return _retention_days(tenant) if _retention_days else DEFAULT_RETENTION_DAYS


@transaction.atomic
def audit_prune(*, tenant, now=None) -> int:
    """Delete the current schema's entries older than ``tenant``'s retention; return how many."""
    cutoff = (now or timezone.now()) - timedelta(days=retention_days(tenant))
    deleted, _by_model = AuditEntry.objects.filter(created__lt=cutoff).delete()
    return deleted
