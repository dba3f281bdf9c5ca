"""Signal receivers of the tenants app (connected in ``TenantsConfig.ready()``)."""

from django.conf import settings
from django.db import transaction

from tenants import routing
from tenants.tasks import spare_schemas_fill_later


def routing_changed(sender, using, **kwargs):
    """
    A tenant or domain was saved or deleted: forget the cached host lookups in
    this process now, so that this connection sees its own change at once.

    Inside a transaction the other threads still see the old row and may cache
    it again before the commit, so forget everything again once it commits;
    until it ends, store nothing this connection looks up, as that may yet be
    rolled back (the database backend resets the flag when the transaction ends).
    """
    routing.clear()
    connection = transaction.get_connection(using)
    if connection.in_atomic_block:
        connection.tenant_routing_changed = True
        transaction.on_commit(routing.clear, using=using)


def tenant_created(sender, instance, created, **kwargs):
    """A new tenant may have taken a spare schema: top the pool up once it commits."""
    if created and settings.TENANT_SPARE_SCHEMAS:
        transaction.on_commit(spare_schemas_fill_later, robust=True)
