"""
The sweep of orphaned uploads: files in the tenant's media folder that no
row refers to. An upload is stored before its row is inserted, so a
transaction that rolls back after the insert (or a worker killed between
the two) leaves a file nobody can reach; ``attachment_create`` removes the
file when the insert itself fails, and this sweep catches everything else.
Run daily in every tenant (``attachments.tasks.attachments_sweep_orphans``,
registered with tenants.jobs). See docs/recovery.md.
"""

import logging
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, models
from django.utils import timezone
from django_tenants.utils import app_labels

logger = logging.getLogger(__name__)

# A file younger than this may belong to an upload whose transaction is
# still open; no transaction of ours lasts anywhere near this long.
ORPHAN_GRACE_PERIOD = timedelta(hours=6)


def _referenced_names() -> set[str]:
    """Every file name held by a file field of any tenant model with a table here."""
    tables = set(connection.introspection.table_names())
    tenant_labels = set(app_labels(settings.TENANT_APPS))
    names = set()
    for model in apps.get_models():
        if model._meta.app_label not in tenant_labels or model._meta.db_table not in tables:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField):
                names.update(
                    model._base_manager.exclude(**{field.name: ""})
                    .values_list(field.name, flat=True)
                    .iterator()
                )
    return names


def _stored_names():
    pending = [""]
    while pending:
        folder = pending.pop()
        try:
            folders, files = default_storage.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
        pending.extend(f"{folder}{name}/" for name in folders)
        yield from (folder + name for name in files)


def orphaned_files_sweep(*, now=None, grace: timedelta = ORPHAN_GRACE_PERIOD) -> list[str]:
    """
    Delete the current tenant's stored files that no row refers to and that
    are older than ``grace``; return their names. Idempotent.
    """
    now = now or timezone.now()
    referenced = _referenced_names()
    deleted = []
    for name in _stored_names():
        if name in referenced or default_storage.get_modified_time(name) > now - grace:
            continue
        default_storage.delete(name)
        deleted.append(name)
    if deleted:
        logger.info("Deleted %d orphaned files in schema %s", len(deleted), connection.schema_name)
    return deleted
