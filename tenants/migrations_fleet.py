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
3. the stale schemas are grouped by the migrations they miss (a fleet
   usually forms one group) and each group's plan is made once. When every
   operation of the plan emits SQL that depends neither on the schema nor
   on its data (``fast_path_refusal``: adding a field or an index, a
   constraint...), its SQL is collected once with Django's own machinery
   (``MigrationLoader.collect_sql``, what ``sqlmigrate`` prints) and the
   workers run that same SQL in each schema of the group, in one
   transaction per schema that also records the migrations: a few
   milliseconds a schema instead of Django's ~0.5 s of graph loading and
   state rendering. Any other plan (RunPython, RunSQL, AlterField, new
   models, a non-atomic migration...) goes through Django's executor in
   each schema, as before;
4. the stale tenant schemas are migrated by a pool of worker processes,
   each with a connection of its own. A worker on the slow path keeps the
   migration graph and the rendered project state between schemas, since
   schemas of one fleet share the same few states. Every schema gets a log
   file, and failures are collected, not raised, so one broken tenant does
   not stop the others;
5. the spare pool is filled again from the migrated template.

Resuming needs no bookkeeping of its own: each migration is recorded in the
schema's own ``django_migrations`` in the transaction that applies it, and
step 1 skips every schema that is current, so a run after a failure or an
interrupt starts where the last one stopped. On the fast path all of a
schema's missing migrations are applied and recorded in one transaction:
all or none. (A migration marked ``atomic = False``, which always goes
through Django's executor, has to be repaired by hand if it fails half
way, as with ``migrate``.)
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
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists
from psycopg2 import sql

from tenants.migrations_planned import FastPlan, FastPlanner, fast_apply, plan_changes_models
from tenants.models import Tenant
from tenants.provisioning import (
    TEMPLATE_SCHEMA,
    provisioning_locked,
    schema_analyze,
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
    fast: bool = False  # applied with the SQL planned once for its group

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

    @property
    def fast(self) -> list[SchemaResult]:
        return [result for result in self.results if result.ok and result.fast]


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


def missing_migrations(
    schema_names: list[str], expected: set[tuple[str, str]]
) -> dict[str, frozenset[tuple[str, str]]]:
    """
    The schemas among ``schema_names`` that miss one of the ``expected``
    migrations, each with the set it misses, read in one query over every
    schema's ``django_migrations`` (schemas that miss nothing are left out).
    """
    if not schema_names or not expected:
        return {}
    union = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {} AS schema_name, app, name FROM {}.django_migrations").format(
            sql.Literal(name), sql.Identifier(name)
        )
        for name in schema_names
    )
    # Every (schema, expected migration) pair, less those recorded: hashed
    # set operations, one pass over the records.
    query = sql.SQL(
        "SELECT schema_name, array_agg(app), array_agg(name) FROM ("
        " SELECT s.schema_name, e.app, e.name"
        " FROM unnest(%s::text[]) AS s(schema_name)"
        " CROSS JOIN unnest(%s::text[], %s::text[]) AS e(app, name)"
        " EXCEPT SELECT schema_name, app, name FROM ({}) AS applied"
        ") AS missing GROUP BY schema_name"
    ).format(union)
    wanted = sorted(expected)
    with connection.cursor() as cursor:
        cursor.execute(
            query, [schema_names, [app for app, _ in wanted], [name for _, name in wanted]]
        )
        return {
            schema_name: frozenset(zip(apps, names, strict=True))
            for schema_name, apps, names in cursor.fetchall()
        }


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
        if plan_changes_models(plan):
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
_plans = ()
_abandoned = []


def _worker_init(log_dir: str, plans: tuple[FastPlan, ...]) -> None:
    """
    A forked worker must not use, nor close, the connections it inherited:
    closing one would end the parent's session on the server. They are kept
    referenced (so never finalised) and replaced by fresh ones.
    """
    global _migrator, _log_dir, _plans
    for connection_ in connections.all(initialized_only=True):
        _abandoned.append(connection_)
        del connections[connection_.alias]
    _migrator = SchemaMigrator()
    _log_dir = Path(log_dir)
    _plans = plans


def _worker_migrate(task: tuple[str, int | None, str]) -> SchemaResult:
    schema_name, plan_index, refusal = task
    fast = None if plan_index is None else _plans[plan_index]
    return schema_migrate_logged(schema_name, _migrator, _log_dir, fast=fast, refusal=refusal)


def schema_migrate_logged(
    schema_name: str,
    migrator: SchemaMigrator,
    log_dir: Path,
    *,
    fast: FastPlan | None = None,
    refusal: str = "",
) -> SchemaResult:
    """
    Migrate one schema, writing its log to ``log_dir/<schema>.log``; never
    raises. With ``fast``, its SQL is run (``fast_apply``); otherwise, or if
    the schema changed since it was planned, Django's executor does the work.
    """
    started = time.perf_counter()
    result = SchemaResult(schema_name)
    with open(log_dir / f"{schema_name}.log", "a") as log:
        log.write(f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} migrating {schema_name}\n")
        try:
            applied = None
            if fast is not None:
                applied = fast_apply(schema_name, fast, log)
                result.fast = applied is not None
                if applied is None:
                    log.write("Its migrations changed since planned: Django's executor instead.\n")
            elif refusal:
                log.write(f"Django's executor, schema by schema: {refusal}.\n")
            if applied is None:
                applied = migrator.migrate(schema_name, log)
            result.applied = applied
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


def template_migrate(log_dir: Path, planner: FastPlanner) -> SchemaResult | None:
    """
    Bring the template up to date in place, with signups held off, and drop the
    spares copied from its older self. Builds it when it does not exist.
    Returns None when there was nothing to do.
    """
    if not schema_exists(TEMPLATE_SCHEMA):
        template_ensure()
        return None
    missing = missing_migrations([TEMPLATE_SCHEMA], planner.expected).get(TEMPLATE_SCHEMA)
    if not missing:
        return None
    with transaction.atomic(), provisioning_locked():
        fast, refusal = planner.plan(TEMPLATE_SCHEMA, missing)
        result = schema_migrate_logged(
            TEMPLATE_SCHEMA, SchemaMigrator(), log_dir, fast=fast, refusal=refusal
        )
        connection.set_schema_to_public()
        if not result.ok:
            transaction.set_rollback(True)
            return result
        schema_analyze(TEMPLATE_SCHEMA)  # rows the migrations added, counted for copies
    spares_drop()
    return result


def fleet_migrate(
    *,
    workers: int | None = None,
    log_dir: Path,
    schema_names: Iterable[str] | None = None,
    progress: Callable[[int, int, int], None] | None = None,
    spares: bool = True,
    template: bool = True,
    fast: bool = True,
) -> FleetResult:
    """
    Migrate every stale tenant schema (or those of ``schema_names``), the
    template and the spare pool. ``progress(done, total, failed)`` is called
    after each schema. Failures are returned, not raised. ``fast=False``
    sends every schema through Django's executor; ``template=False`` leaves
    the template alone (tests with throwaway migrations).
    """
    names = tenant_schema_names()
    if schema_names is not None:
        unknown = sorted(set(schema_names) - set(names))
        if unknown:
            raise UnknownSchema(unknown)
        names = [name for name in names if name in set(schema_names)]
    log_dir.mkdir(parents=True, exist_ok=True)
    outcome = FleetResult()
    planner = FastPlanner(migrations_on_disk())
    if template:
        migrated = template_migrate(log_dir, planner)
        if migrated is not None:
            outcome.template_migrated = migrated.ok
            if not migrated.ok:
                outcome.results.append(migrated)
                return outcome
    outcome.total = len(names)
    missing = missing_migrations(names, planner.expected)
    stale = [name for name in names if name in missing]
    outcome.current = len(names) - len(stale)
    # One plan per set of missing migrations (a fleet usually has one), made here.
    plans, indexes, tasks = [], {}, []
    for name in stale:
        plan, refusal = planner.plan(name, missing[name]) if fast else (None, "")
        if plan is not None and id(plan) not in indexes:
            indexes[id(plan)] = len(plans)
            plans.append(plan)
        tasks.append((name, None if plan is None else indexes[id(plan)], refusal))
    if progress:
        progress(0, len(stale), 0)
    workers = max(1, min(workers or multiprocessing.cpu_count(), len(stale) or 1))
    failed = 0
    for result in _run(tasks, workers, log_dir, tuple(plans)):
        outcome.results.append(result)
        failed += not result.ok
        if progress:
            progress(len(outcome.results), len(stale), failed)
    connection.set_schema_to_public()
    if spares:
        outcome.spares_made = spares_fill()
    return outcome


def _run(tasks: list[tuple[str, int | None, str]], workers: int, log_dir: Path, plans):
    if not tasks:
        return
    if workers == 1:
        migrator = SchemaMigrator()
        for name, plan_index, refusal in tasks:
            fast = None if plan_index is None else plans[plan_index]
            yield schema_migrate_logged(name, migrator, log_dir, fast=fast, refusal=refusal)
        return
    # fork: workers start at once with Django set up; each opens its own connection.
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_worker_init, initargs=[str(log_dir), plans]) as pool:
        # Fast-path schemas take milliseconds: hand them out a few at a time.
        chunk = 8 if plans else 1
        yield from pool.imap_unordered(_worker_migrate, tasks, chunksize=chunk)


def default_log_dir() -> Path:
    return Path(settings.BASE_DIR) / ".data" / "migrate_tenants" / time.strftime("%Y%m%d-%H%M%S")
