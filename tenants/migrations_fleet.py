"""
Tenant migrations for the whole fleet, fast.

django-tenants' ``migrate_schemas --tenant`` runs Django's ``migrate`` in
every schema, one after the other: about 0.27 s a schema even with nothing
to apply (loading the migrations, rendering the project state, sending
post_migrate), 4-5 minutes for 1,000 tenants before a release can start.
Here:

1. one query reads the ``django_migrations`` table of every tenant schema
   (a ``UNION ALL`` built with ``psycopg2.sql.Identifier``) and keeps only
   the schemas missing a migration on disk: a release without a tenant
   migration costs that one query;
2. the template schema is migrated first, in place, under the provisioning
   lock held exclusively (signups wait for it rather than copy a half
   migrated template), and the spare schemas copied from the old template
   are dropped;
3. the stale tenant schemas are migrated by a pool of worker processes,
   each with a connection of its own. A worker keeps the migration graph and
   the rendered project state between schemas, since schemas of one fleet
   share the same few states: only the SQL of the missing migrations runs
   in each. Every schema gets a log file, and failures are collected, not
   raised, so one broken tenant does not stop the others;
4. the spare pool is filled again from the migrated template.

Resuming needs no bookkeeping of its own: each migration is recorded in the
schema's own ``django_migrations`` in the transaction that applies it, and
step 1 skips every schema that is current, so a run after a failure or an
interrupt starts where the last one stopped. (A migration marked
``atomic = False`` that fails half way has to be repaired by hand, as with
``migrate``.)
"""

import io
import multiprocessing
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection, connections, transaction
from django.db.migrations import operations
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists
from psycopg2 import sql

from tenants.models import Tenant
from tenants.provisioning import (
    TEMPLATE_SCHEMA,
    provisioning_locked,
    spares_drop,
    spares_fill,
    template_ensure,
)


class UnknownSchema(ValueError):
    """Schemas asked for by name that are not tenant schemas."""


@dataclass
class SchemaResult:
    """What happened to one schema: the migrations applied, or the error."""

    schema_name: str
    applied: list[str] = field(default_factory=list)
    error: str = ""  # the traceback
    message: str = ""  # the error's first line, for the summary
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class FleetResult:
    """A run's outcome: schemas found current, migrated, and failed."""

    total: int = 0
    current: int = 0
    template_migrated: bool = False
    spares_made: int = 0
    results: list[SchemaResult] = field(default_factory=list)

    @property
    def migrated(self) -> list[SchemaResult]:
        return [result for result in self.results if result.ok]

    @property
    def failed(self) -> list[SchemaResult]:
        return [result for result in self.results if not result.ok]


def migrations_on_disk() -> set[tuple[str, str]]:
    """Every migration a schema must have recorded to be current."""
    return set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def tenant_schema_names() -> list[str]:
    """Every tenant's schema that exists, in a stable order."""
    with schema_context(get_public_schema_name()):
        names = list(
            Tenant.objects.exclude(schema_name=get_public_schema_name())
            .order_by("schema_name")
            .values_list("schema_name", flat=True)
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", [names])
            existing = {name for (name,) in cursor.fetchall()}
    return [name for name in names if name in existing]


def stale_schema_names(schema_names: list[str], expected: set[tuple[str, str]]) -> list[str]:
    """
    The schemas among ``schema_names`` that miss one of the ``expected``
    migrations, read in one query over every schema's ``django_migrations``.
    """
    if not schema_names:
        return []
    union = sql.SQL(" UNION ALL ").join(
        sql.SQL(
            "SELECT {} AS schema_name, app || '.' || name AS migration FROM {}.django_migrations"
        ).format(sql.Literal(name), sql.Identifier(name))
        for name in schema_names
    )
    query = sql.SQL(
        "SELECT schema_name, count(DISTINCT migration) FILTER (WHERE migration = ANY(%s))"
        " FROM ({}) AS applied GROUP BY schema_name"
    ).format(union)
    wanted = sorted(f"{app}.{name}" for app, name in expected)
    with connection.cursor() as cursor:
        cursor.execute(query, [wanted])
        found = dict(cursor.fetchall())
    return [name for name in schema_names if found.get(name, 0) < len(wanted)]


# Operations after which post_migrate's receivers (content types, permissions,
# the built-in roles) have nothing to do: they change no model's existence,
# name or options. Any other operation, RunPython and RunSQL included, sends
# post_migrate as migrate does; it costs ~1 s a schema here.
_FIELD_LEVEL_OPERATIONS = (
    operations.AddField,
    operations.RemoveField,
    operations.AlterField,
    operations.RenameField,
    operations.AddIndex,
    operations.RemoveIndex,
    operations.RenameIndex,
    operations.AddConstraint,
    operations.RemoveConstraint,
    operations.AlterUniqueTogether,
    operations.AlterIndexTogether,
    operations.AlterModelTableComment,
)


def _changes_models(plan) -> bool:
    return any(
        not isinstance(operation, _FIELD_LEVEL_OPERATIONS)
        for migration, _backwards in plan
        for operation in migration.operations
    )


class SchemaMigrator:
    """
    Applies the missing migrations to one schema after another on this
    process's connection, keeping what schemas share: the migration graph on
    disk and the rendered project state before and after each distinct set
    of applied migrations.
    """

    def __init__(self):
        self._states = {}

    def migrate(self, schema_name: str, log: io.TextIOBase) -> list[str]:
        connection.set_schema(schema_name)
        executor = MigrationExecutor(connection, progress_callback=self._progress(log))
        targets = executor.loader.graph.leaf_nodes()
        plan = executor.migration_plan(targets)
        if not plan:
            log.write("Nothing to apply.\n")
            return []
        key = frozenset(executor.loader.applied_migrations)
        if key not in self._states:
            # What migrate does: the state of the applied migrations, rendered
            # (rendering ~300 models is most of a schema's time: done once).
            before = executor._create_project_state(with_applied_migrations=True)
            before.apps  # noqa: B018 - rendered now, so that clones copy it
            self._states[key] = [before, None]
        before, after = self._states[key]
        state = executor.migrate(targets, plan=plan, state=before.clone())
        if after is None:
            self._states[key][1] = after = state
        if _changes_models(plan):
            # Content types and permissions of new models, as migrate does.
            emit_post_migrate_signal(0, False, connection.alias, apps=after.apps, plan=plan)
        return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]

    @staticmethod
    def _progress(log):
        words = {"apply_start": "Applying", "apply_success": "Applied"}

        def callback(action, migration=None, fake=False):
            if migration is not None:
                log.write(f"{words.get(action, action)} {migration}\n")

        return callback


_migrator = None
_log_dir = None
_abandoned = []


def _worker_init(log_dir: str) -> None:
    """
    A forked worker must not use, nor close, the connections it inherited:
    closing one would end the parent's session on the server. They are kept
    referenced (so never finalised) and replaced by fresh ones.
    """
    global _migrator, _log_dir
    for connection_ in connections.all(initialized_only=True):
        _abandoned.append(connection_)
        del connections[connection_.alias]
    _migrator = SchemaMigrator()
    _log_dir = Path(log_dir)


def _worker_migrate(schema_name: str) -> SchemaResult:
    return schema_migrate_logged(schema_name, _migrator, _log_dir)


def schema_migrate_logged(
    schema_name: str, migrator: SchemaMigrator, log_dir: Path
) -> SchemaResult:
    """Migrate one schema, writing its log to ``log_dir/<schema>.log``; never raises."""
    started = time.perf_counter()
    result = SchemaResult(schema_name)
    with open(log_dir / f"{schema_name}.log", "a") as log:
        log.write(f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} migrating {schema_name}\n")
        try:
            result.applied = migrator.migrate(schema_name, log)
        except Exception as error:
            result.error = traceback.format_exc()
            first_line = (str(error).strip().splitlines() or [""])[0]
            result.message = f"{type(error).__name__}: {first_line}"
            log.write(result.error)
            # The failed migration's transaction is rolled back; a worker
            # starts the next schema on a fresh connection.
            if not connection.in_atomic_block:
                connection.close()
        finally:
            result.seconds = time.perf_counter() - started
            log.write(f"=== {'FAILED' if result.error else 'done'} in {result.seconds:.2f} s\n")
    return result


def template_migrate(log_dir: Path) -> SchemaResult | None:
    """
    Bring the template up to date in place, with signups held off, and drop the
    spares copied from its older self. Builds it when it does not exist.
    Returns None when there was nothing to do.
    """
    if not schema_exists(TEMPLATE_SCHEMA):
        template_ensure()
        return None
    if not stale_schema_names([TEMPLATE_SCHEMA], migrations_on_disk()):
        return None
    with transaction.atomic(), provisioning_locked():
        result = schema_migrate_logged(TEMPLATE_SCHEMA, SchemaMigrator(), log_dir)
        connection.set_schema_to_public()
        if not result.ok:
            transaction.set_rollback(True)
            return result
    spares_drop()
    return result


def fleet_migrate(
    *,
    workers: int | None = None,
    log_dir: Path,
    schema_names: Iterable[str] | None = None,
    progress: Callable[[int, int, int], None] | None = None,
    spares: bool = True,
) -> FleetResult:
    """
    Migrate every stale tenant schema (or those of ``schema_names``), the
    template and the spare pool. ``progress(done, total, failed)`` is called
    after each schema. Failures are returned, not raised.
    """
    names = tenant_schema_names()
    if schema_names is not None:
        unknown = sorted(set(schema_names) - set(names))
        if unknown:
            raise UnknownSchema(unknown)
        names = [name for name in names if name in set(schema_names)]
    log_dir.mkdir(parents=True, exist_ok=True)
    outcome = FleetResult()
    template = template_migrate(log_dir)
    if template is not None:
        outcome.template_migrated = template.ok
        if not template.ok:
            outcome.results.append(template)
            return outcome
    outcome.total = len(names)
    stale = stale_schema_names(names, migrations_on_disk())
    outcome.current = len(names) - len(stale)
    if progress:
        progress(0, len(stale), 0)
    workers = max(1, min(workers or multiprocessing.cpu_count(), len(stale) or 1))
    failed = 0
    for result in _run(stale, workers, log_dir):
        outcome.results.append(result)
        failed += not result.ok
        if progress:
            progress(len(outcome.results), len(stale), failed)
    connection.set_schema_to_public()
    if spares:
        outcome.spares_made = spares_fill()
    return outcome


def _run(schema_names: list[str], workers: int, log_dir: Path):
    if not schema_names:
        return
    if workers == 1:
        migrator = SchemaMigrator()
        for name in schema_names:
            yield schema_migrate_logged(name, migrator, log_dir)
        return
    # fork: workers start at once with Django set up; each opens its own connection.
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_worker_init, initargs=[str(log_dir)]) as pool:
        yield from pool.imap_unordered(_worker_migrate, schema_names)


def default_log_dir() -> Path:
    return Path(settings.BASE_DIR) / ".data" / "migrate_tenants" / time.strftime("%Y%m%d-%H%M%S")
