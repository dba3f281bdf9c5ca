"""
Tenant schemas, made fast.

Running every migration for each new tenant takes tens of seconds here (most
of it rendering dj-stripe's migration state, which a tenant schema does not
even use). Instead one *template* schema is migrated the ordinary way, and
each new tenant's schema is a copy of it (tenants.schema_copy), data
included: content types, permissions and the ``django_migrations`` records
come along, so the copy is indistinguishable from a migrated schema
(tests/test_provisioning.py checks that) and no ``migrate --fake`` pass is
needed afterwards. The template is rebuilt whenever the migrations on disk
differ from those recorded in it.

A copy still takes about 100 ms, nearly all of it PostgreSQL creating and
syncing some 170 empty relations, so a few copies are made ahead of time:
*spare* schemas, listed in ``SpareSchema``. A new tenant takes one and
renames it, which only updates a catalog row; with none left it waits for a
copy of its own. ``spares_fill`` tops the pool up to
``settings.TENANT_SPARE_SCHEMAS``: ``manage.py tenant_template`` calls it on
deploy, and a Celery task (tenants.tasks) after each new tenant commits,
queued by tenants.services.tenant_create. Spares are dropped whenever
the template is rebuilt, and one copied from an older template is never
taken.
"""

from contextlib import contextmanager

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils.crypto import get_random_string
from django_tenants.utils import schema_context, schema_exists
from psycopg2 import sql

from tenants.models import SpareSchema
from tenants.schema_copy import schema_copy

TEMPLATE_SCHEMA = "tenant_template"
SPARE_SCHEMA_PREFIX = "spare_"

# Rebuilding the template takes this lock exclusively; copying it and taking
# a spare take it shared, so they never see a half-rebuilt template or a
# spare about to be dropped, yet run side by side.
_PROVISIONING_LOCK_ID = 0x736D7072  # "smpr"
# Held by whoever is filling the pool, so that two fills do not overshoot it.
_FILL_LOCK_ID = 0x736D7066  # "smpf"


def template_is_current() -> bool:
    """True when the template exists and has every migration on disk applied."""
    if not schema_exists(TEMPLATE_SCHEMA):
        return False
    with schema_context(TEMPLATE_SCHEMA):
        loader = MigrationLoader(connection)
        # Every migration, not just a plan to the leaves: a plan ignores a
        # migration whose record is missing when a later one is recorded.
        return set(loader.graph.nodes) <= set(loader.applied_migrations)


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


def schema_analyze(schema_name: str) -> None:
    """Gather planner statistics for every table of ``schema_name`` (copies reuse its counts)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace AND relkind = 'r'",
            [schema_name],
        )
        tables = [
            sql.SQL("{}.{}").format(sql.Identifier(schema_name), sql.Identifier(table))
            for (table,) in cursor.fetchall()
        ]
        if tables:
            cursor.execute(sql.SQL("ANALYZE {}").format(sql.SQL(", ").join(tables)))


# Migrations on disk cannot change while a process runs, so once the template
# has been found current there is no need to look again.
_template_known_current = False


def template_ensure(*, force: bool = False) -> bool:
    """Build or rebuild the template schema if it is missing or stale. Returns True if built."""
    global _template_known_current
    if _template_known_current and not force:
        return False
    with transaction.atomic(), schema_context("public"):
        _lock(shared=False)
        built = force or not template_is_current()
        if built:
            spares_drop()
            schema_drop(TEMPLATE_SCHEMA)
            schema_migrate(TEMPLATE_SCHEMA)
            schema_analyze(TEMPLATE_SCHEMA)
        elif not _analysed(TEMPLATE_SCHEMA):
            # Built before copies came with statistics: analyse it once, and
            # let the spares copied from it without them go.
            spares_drop()
            schema_analyze(TEMPLATE_SCHEMA)
    _template_known_current = True
    return built


def _analysed(schema_name: str) -> bool:
    """Whether ANALYZE has counted the rows of ``schema_name``'s content types."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.reltuples >= 0 FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relname = %s",
            [schema_name, ContentType._meta.db_table],
        )
        row = cursor.fetchone()
    return row is None or row[0]


def schema_create(schema_name: str) -> None:
    """
    Create a tenant's schema: a spare renamed, or else a fresh copy of the
    template. Call inside the transaction that creates the tenant's rows, so
    a failure leaves neither (and a spare taken stays in the pool).
    """
    template_ensure()
    # Its own atomic block makes sure there is a transaction for the locks
    # and for the copy's search path (tenants.schema_copy). Nothing here
    # depends on the connection's tenant, so it is left alone: a switch would
    # cost a SET search_path now and another one after.
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(shared=True)
        # Schema names differing only in case would be told apart by PostgreSQL
        # but not by every tool quoting them, so treat them as taken.
        if schema_exists(schema_name, case_sensitive=False):
            raise ValidationError("New schema name already exists")
        spare = (
            SpareSchema.objects.select_for_update(skip_locked=True)
            .filter(template_oid=_template_oid(cursor))
            .first()
        )
        if spare is None:
            schema_copy(cursor, TEMPLATE_SCHEMA, schema_name)
        else:
            spare.delete()
            cursor.execute(
                sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                    sql.Identifier(spare.name), sql.Identifier(schema_name)
                )
            )


def spares_fill(count: int | None = None) -> int:
    """
    Copy the template into spare schemas until ``count`` of them wait
    (``settings.TENANT_SPARE_SCHEMAS`` by default). Returns how many were
    made; another process filling the pool at the same time makes this one
    stop early, so that the two do not overshoot it.
    """
    wanted = settings.TENANT_SPARE_SCHEMAS if count is None else count
    template_ensure()
    made = 0
    while True:
        with transaction.atomic(), schema_context("public"), connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_FILL_LOCK_ID])
            (ours,) = cursor.fetchone()
            if not ours:
                return made
            _lock(shared=True)
            template_oid = _template_oid(cursor)
            if SpareSchema.objects.filter(template_oid=template_oid).count() >= wanted:
                return made
            name = SPARE_SCHEMA_PREFIX + get_random_string(
                16, "abcdefghijklmnopqrstuvwxyz0123456789"
            )
            schema_copy(cursor, TEMPLATE_SCHEMA, name)
            SpareSchema.objects.create(name=name, template_oid=template_oid)
        made += 1


def spares_drop() -> int:
    """Drop every spare schema. Returns how many there were."""
    with transaction.atomic(), schema_context("public"):
        spares = list(SpareSchema.objects.select_for_update())
        for spare in spares:
            schema_drop(spare.name)
        SpareSchema.objects.filter(pk__in=[spare.pk for spare in spares]).delete()
    return len(spares)


def _template_oid(cursor) -> int:
    cursor.execute("SELECT %s::regnamespace::oid", [TEMPLATE_SCHEMA])
    (oid,) = cursor.fetchone()
    return oid


@contextmanager
def provisioning_locked():
    """
    Hold off copies of the template and takes of a spare until the end of the
    transaction: for changing the template in place (tenants.migrations_fleet).
    Call inside ``transaction.atomic()``.
    """
    _lock(shared=False)
    yield


def _lock(*, shared: bool) -> None:
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [_PROVISIONING_LOCK_ID])
