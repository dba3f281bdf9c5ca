"""
Migration plans that need not go through Django's executor in every schema.

A tenant fleet's schemas miss the same migrations; when every operation of
the plan writes SQL that depends neither on the schema nor on its rows
(``fast_path_refusal``), the plan and its SQL are made once
(``FastPlanner``: Django's executor plans against one schema, its schema
editor collects the SQL without running it, as ``sqlmigrate`` does), and
``fast_apply`` runs that SQL in each schema with its migration records, in
one transaction. ``tenants.migrations_fleet`` decides which schemas take
this path; docs/deployment.md says what qualifies and why.
"""

import io
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.migrations import operations
from django.db.migrations.executor import MigrationExecutor

# Operations after which post_migrate's receivers (content types, permissions,
# the built-in roles) have nothing to do: they change no model's existence,
# name or options. Any other operation, RunPython and RunSQL included, sends
# post_migrate as migrate does; it costs ~1 s a schema here.
FIELD_LEVEL_OPERATIONS = (
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


def plan_changes_models(plan) -> bool:
    """Whether ``plan`` changes a model's existence, name or options (post_migrate has work)."""
    return any(
        not isinstance(operation, FIELD_LEVEL_OPERATIONS)
        for migration, _backwards in plan
        for operation in migration.operations
    )


# Operations whose SQL the schema editor writes from the migration state alone:
# no introspection of the schema (AlterField, RenameField, RemoveField of a
# foreign key and the *_together operations read constraint names from the
# catalog, which may differ between schemas), nothing computed from the rows
# (RunPython) or opaque to us (RunSQL, whose SQL may also read the schema's
# data; and migrate sends post_migrate after it). All are field-level
# (FIELD_LEVEL_OPERATIONS), so skipping post_migrate on the fast path is
# what the slow path does too. Exact types: a subclass (AddIndexConcurrently
# and the like) may do anything in database_forwards.
_FAST_OPERATIONS = (
    operations.AddField,
    operations.AddIndex,
    operations.RemoveIndex,
    operations.RenameIndex,
    operations.AddConstraint,
    operations.RemoveConstraint,
)
assert set(_FAST_OPERATIONS) <= set(FIELD_LEVEL_OPERATIONS)


def _operation_refusal(operation) -> str:
    name = type(operation).__name__
    if type(operation) not in _FAST_OPERATIONS:
        return f"{name} is not one of the operations planned once"
    if isinstance(operation, operations.AddField):
        field = operation.field
        if field.many_to_many:
            return f"{name} {operation.name}: a many-to-many field"
        if field.has_default() and callable(field.default):
            # Django calls it in each schema; the SQL collected once would
            # give every schema the first schema's value.
            return f"{name} {operation.name}: a callable default"
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return f"{name} {operation.name}: auto_now fills existing rows with the time"
    if isinstance(operation, operations.RenameIndex) and not operation.old_name:
        return f"{name} by fields looks the index up in the catalog"
    return ""


def fast_path_refusal(plan) -> str:
    """
    Why a migration plan cannot run as SQL collected once for every schema,
    or ``""`` when it can: every migration forwards, atomic, replacing none,
    and every operation one of ``_FAST_OPERATIONS`` (with a constant or no
    default, not many-to-many).
    """
    if not plan:
        return "nothing to apply"
    for migration, backwards in plan:
        label = f"{migration.app_label}.{migration.name}"
        if backwards:
            return f"{label} would be unapplied"
        if migration.replaces:
            return f"{label} replaces other migrations"
        if not migration.atomic:
            return f"{label} is not atomic"
        for operation in migration.operations:
            refusal = _operation_refusal(operation)
            if refusal:
                return f"{label}: {refusal}"
    return ""


@dataclass(frozen=True)
class FastPlan:
    """
    The SQL of a plan, for every schema that misses exactly ``migrations``
    of the ``expected`` ones (every migration on disk).
    """

    migrations: tuple[tuple[str, str], ...]  # in the order applied
    statements: tuple[str, ...]
    expected: frozenset[tuple[str, str]]

    @property
    def missing(self) -> frozenset[tuple[str, str]]:
        return frozenset(self.migrations)


class FastPlanner:
    """
    Plans once per set of missing migrations: Django's executor makes the plan
    against one schema of the set (as migrate would), then, if the plan
    qualifies (``fast_path_refusal``), its schema editor collects the SQL in
    ``collect_sql`` mode (nothing is run). Returns ``(FastPlan, "")`` or
    ``(None, why not)``.
    """

    def __init__(self, expected: set[tuple[str, str]]):
        self.expected = frozenset(expected)
        self._plans = {}

    def plan(
        self, schema_name: str, missing: frozenset[tuple[str, str]]
    ) -> tuple[FastPlan | None, str]:
        if missing not in self._plans:
            try:
                # A savepoint inside the template's transaction: an error here
                # must not leave that transaction unusable.
                with transaction.atomic():
                    self._plans[missing] = self._make(schema_name, missing)
            except Exception as error:
                # Django's executor will meet the same problem in each schema,
                # and report it there, schema by schema.
                first_line = (str(error).strip().splitlines() or [""])[0]
                self._plans[missing] = (
                    None,
                    f"planning failed ({type(error).__name__}: {first_line})",
                )
        return self._plans[missing]

    def _make(self, schema_name, missing):
        connection.set_schema(schema_name)
        try:
            executor = MigrationExecutor(connection)
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
            refusal = fast_path_refusal(plan)
            if refusal:
                return None, refusal
            planned = tuple((migration.app_label, migration.name) for migration, _ in plan)
            if frozenset(planned) != missing:
                return None, "the plan differs from the migrations recorded as missing"
            statements = tuple(executor.loader.collect_sql(plan))
        finally:
            connection.set_schema_to_public()
        return FastPlan(planned, statements, self.expected), ""


def fast_apply(schema_name: str, fast: FastPlan, log: io.TextIOBase) -> list[str] | None:
    """
    Run ``fast``'s SQL in ``schema_name`` and record its migrations, in one
    transaction, the schema selected the django-tenants way (``set_schema``:
    the statements name tables unqualified, as the schema editor writes
    them). Returns None, having changed nothing, when the schema no longer
    misses exactly the planned migrations (another run got there first).
    """
    connection.set_schema(schema_name)
    with transaction.atomic(), connection.cursor() as cursor:
        # Keeps a concurrent migrate of this schema out until we commit.
        cursor.execute("LOCK TABLE django_migrations IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("SELECT app, name FROM django_migrations")
        if fast.expected - set(cursor.fetchall()) != fast.missing:
            return None
        for app, name in fast.migrations:
            log.write(f"Applying {app}.{name} (SQL planned once)\n")
        log.write("".join(f"  {statement}\n" for statement in fast.statements))
        if fast.statements:
            # No parameters: the SQL is final (values were quoted by the
            # schema editor), so a % in it is not a placeholder.
            cursor.execute("\n".join(fast.statements))
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied)"
            " SELECT app, name, now() FROM unnest(%s::text[], %s::text[]) AS m(app, name)",
            [[app for app, _ in fast.migrations], [name for _, name in fast.migrations]],
        )
    for app, name in fast.migrations:
        log.write(f"Applied {app}.{name}\n")
    return [f"{app}.{name}" for app, name in fast.migrations]
