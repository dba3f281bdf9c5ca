"""
What happened to a request, announced once it is committed.

Services call ``announce``; integrations (the outgoing webhooks) connect to
``request_event``. Receivers run after the commit, in the schema of the
tenant the change was made in, so a step that rolls back announces nothing.
"""

from django.db import connection, models, transaction
from django.dispatch import Signal
from django.utils.translation import gettext_lazy as _
from django_tenants.utils import schema_context

# Sent with ``kind`` (an EventKind), ``request_id`` and ``data`` (a dict of
# JSON-ready values that the kind adds, e.g. the old and new status).
request_event = Signal()


class EventKind(models.TextChoices):
    CREATED = "request.created", _("Request created")
    STATUS_CHANGED = "request.status_changed", _("Request status changed")
    ASSIGNED = "request.assigned", _("Request assigned")
    COMMENTED = "request.commented", _("Request commented")


def announce(kind: EventKind, request_id: int, **data) -> None:
    """Send ``request_event`` once the current transaction commits."""
    schema = connection.schema_name
    kind = EventKind(kind)

    def send():
        with schema_context(schema):
            request_event.send(sender=EventKind, kind=kind, request_id=request_id, data=data)

    send.__qualname__ = f"announce:{kind.value}:{request_id}"
    # robust: the change is committed already; a receiver's failure is logged.
    transaction.on_commit(send, robust=True)
