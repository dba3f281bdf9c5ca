"""
Where a task runs: every Celery task of ours says it.

tenant-schemas-celery sends the schema a task was queued from with the task
and switches the worker's connection to it before the task runs; a task queued
outside any tenant would silently run in the public schema, reading nothing or
the wrong thing. So the app's default task class, ``TenantTask``, refuses to
run there, and the few tasks meant for the whole platform (fan-outs, the
spare-schema pool) declare themselves with ``base=PlatformTask``, which always
runs in the public schema, wherever it was queued from. ``SchemaTask`` is for
the rare task that belongs in both (the outbox's mail), and says so.
"""

import logging

from django.db import connection
from django_tenants.utils import get_public_schema_name, schema_context
from tenant_schemas_celery.task import TenantTask as SchemaSwitchingTask

logger = logging.getLogger("smartmaintenance.tasks")


class TaskWithoutTenant(RuntimeError):
    """A tenant task found itself in the public schema: it was queued outside any tenant."""


class LoggedTask(SchemaSwitchingTask):
    """Logs every failure with the schema it ran in and the task's id."""

    abstract = True

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        logger.error(
            "Task %s [%s] failed in schema %s: %r",
            self.name,
            task_id,
            connection.schema_name,
            exc,
            exc_info=(type(exc), exc, einfo.tb) if einfo else None,
            extra={"task_id": task_id, "schema": connection.schema_name},
        )
        super().on_failure(exc, task_id, args, kwargs, einfo)


class TenantTask(LoggedTask):
    """A task that runs in the schema of the tenant it was queued from, and only there."""

    abstract = True

    def __call__(self, *args, **kwargs):
        if connection.schema_name == get_public_schema_name():
            raise TaskWithoutTenant(
                f"{self.name} is a tenant task but was queued outside any tenant; "
                "queue it inside tenant_context(), or declare it with base=PlatformTask."
            )
        return super().__call__(*args, **kwargs)


class PlatformTask(LoggedTask):
    """A task for the platform as a whole: it runs in the public schema, wherever it was queued."""

    abstract = True

    def __call__(self, *args, **kwargs):
        with schema_context(get_public_schema_name()):
            return super().__call__(*args, **kwargs)


class SchemaTask(LoggedTask):
    """
    A task that runs in whichever schema it was queued from, the public one
    included: for work that exists in both, such as sending the outbox's mail.
    """

    abstract = True
