"""
Tenant schemas, made fast.

Running every migration for each new tenant takes tens of seconds here (most
of it rendering dj-stripe's migration state, which a tenant schema does not
even use). Instead one *template* schema is migrated the ordinary way, and
each new tenant's schema is a copy of it, data included: content types,
permissions and the ``django_migrations`` records come along, so the copy is
indistinguishable from a migrated schema (tests/test_provisioning.py checks
that) and no ``migrate --fake`` pass is needed afterwards.

The template is rebuilt whenever the migrations on disk differ from those
recorded in it.
"""

from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django_tenants.clone import CloneSchema
from django_tenants.utils import schema_context, schema_exists
from psycopg2 import sql

TEMPLATE_SCHEMA = "tenant_template"

# Provisioning replaces the shared clone_schema() SQL function and creates
# schemas; one at a time keeps concurrent signups from deadlocking on it.
_PROVISIONING_LOCK_ID = 0x736D7072  # "smpr"


def template_is_current() -> bool:
    """True when the template exists and has every migration on disk applied."""
    if not schema_exists(TEMPLATE_SCHEMA):
        return False
    with schema_context(TEMPLATE_SCHEMA):
        executor = MigrationExecutor(connection)
        return not executor.migration_plan(executor.loader.graph.leaf_nodes())


def schema_drop(schema_name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema_name))
        )


def schema_migrate(schema_name: str) -> None:
    """Create ``schema_name`` and run every tenant migration in it: the slow, stock path."""
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema_name)))
    call_command(
        "migrate_schemas", tenant=True, schema_name=schema_name, interactive=False, verbosity=0
    )
    connection.set_schema_to_public()


# Migrations on disk cannot change while a process runs, so once the template
# has been found current there is no need to look again.
_template_known_current = False


def template_ensure(*, force: bool = False) -> bool:
    """Build or rebuild the template schema if it is missing or stale. Returns True if built."""
    global _template_known_current
    if _template_known_current and not force:
        return False
    with transaction.atomic(), schema_context("public"):
        _lock()
        built = force or not template_is_current()
        if built:
            schema_drop(TEMPLATE_SCHEMA)
            schema_migrate(TEMPLATE_SCHEMA)
    _template_known_current = True
    return built


def schema_create(schema_name: str) -> None:
    """Create a tenant's schema as a copy of the template. Call inside a transaction."""
    template_ensure()
    with schema_context("public"):
        _lock()
        CloneSchema().clone_schema(TEMPLATE_SCHEMA, schema_name, "DATA", set_connection=False)


def _lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PROVISIONING_LOCK_ID])
