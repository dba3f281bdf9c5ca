"""Reads of the audit log."""

from django.db.models import QuerySet

from audit.models import AuditEntry


def audit_entries(
    *, actor: str = "", action: str = "", since=None, until=None
) -> QuerySet[AuditEntry]:
    """
    The current schema's entries, newest first, narrowed by actor e-mail
    (part of it, any case), action, and dates (``since`` and ``until``
    included, as dates).
    """
    entries = AuditEntry.objects.all()
    if actor:
        entries = entries.filter(actor_email__icontains=actor)
    if action:
        entries = entries.filter(action=action)
    if since:
        entries = entries.filter(created__date__gte=since)
    if until:
        entries = entries.filter(created__date__lte=until)
    return entries
