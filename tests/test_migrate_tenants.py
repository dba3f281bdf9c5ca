"""
manage.py migrate_tenants (tenants.migrations_fleet): skips current schemas,
migrates the stale ones in worker processes, resumes after a failure, and
leaves each schema as django-tenants' migrate_schemas would, whether its
plan ran as SQL planned once (the fast path) or through Django's executor.

Tenants are committed (their workers have connections of their own) and put
one migration behind by really unapplying it: webhooks 0002, which swaps an
index for a partial one. A table named like that index makes 0002 fail in
one schema. Throwaway migrations (a nullable column, a RunPython) are put
in place with MIGRATION_MODULES, on schemas of their own.
"""

import shutil
import uuid
from functools import partial
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.core.management import CommandError, call_command
from django.db import connection, migrations, models
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import schema_context
from psycopg2 import sql

from tenants.migrations_fleet import fleet_migrate, migrations_on_disk
from tenants.migrations_planned import FastPlan, fast_apply, fast_path_refusal
from webhooks.models import WebhookDelivery

BEHIND = ("webhooks", "0001_initial")
LATEST = ("webhooks", "0002_delivery_due_index")
INDEX = "webhooks_delivery_due"


def unapply_latest(schema_name):
    with schema_context(schema_name):
        MigrationExecutor(connection).migrate([BEHIND])


def block_index(schema_name):
    """A table where 0002 drops and recreates the index: re-applying it fails there."""
    with schema_context(schema_name), connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {INDEX}")
        cursor.execute(f"CREATE TABLE {INDEX} (id integer)")


def unblock_index(schema_name):
    with schema_context(schema_name), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {INDEX}")


def migration_state(schema_name):
    """Recorded migrations, the index's definition and the table's columns."""
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT app, name FROM {}.django_migrations ORDER BY app, name").format(
                sql.Identifier(schema_name)
            )
        )
        recorded = cursor.fetchall()
        cursor.execute(
            "SELECT replace(indexdef, %s, 'S') FROM pg_indexes "
            "WHERE schemaname = %s AND indexname = %s",
            [schema_name, schema_name, INDEX],
        )
        index = cursor.fetchall()
        cursor.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s ORDER BY column_name",
            [schema_name, WebhookDelivery._meta.db_table],
        )
        columns = cursor.fetchall()
    return recorded, index, columns


def schema_shape(schema_name):
    """
    Everything a migration changes in a schema: every table's columns, every
    index, every constraint, and the migration records (the schema's name
    replaced, so that two schemas compare).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type, character_maximum_length,"
            " numeric_precision, is_nullable, replace(column_default, %s, 'S'), is_identity"
            " FROM information_schema.columns WHERE table_schema = %s ORDER BY 1, 2",
            [schema_name, schema_name],
        )
        columns = cursor.fetchall()
        cursor.execute(
            "SELECT tablename, indexname, replace(indexdef, %s, 'S') FROM pg_indexes"
            " WHERE schemaname = %s ORDER BY 1, 2",
            [schema_name, schema_name],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT c.relname, con.conname, con.contype,"
            " replace(pg_get_constraintdef(con.oid), %s, 'S'), con.condeferrable"
            " FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid"
            " WHERE c.relnamespace = %s::regnamespace ORDER BY 1, 2",
            [schema_name, schema_name],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            sql.SQL("SELECT app, name FROM {}.django_migrations ORDER BY app, name").format(
                sql.Identifier(schema_name)
            )
        )
        recorded = cursor.fetchall()
    assert columns and indexes and constraints and recorded
    return {
        "columns": columns,
        "indexes": indexes,
        "constraints": constraints,
        "recorded": recorded,
    }


def logged(log_dir):
    return sorted(path.stem for path in log_dir.glob("*.log"))


@pytest.mark.django_db
def test_skips_current_resumes_after_failure_and_matches_migrate_schemas(
    alpha, committed_tenant, in_own_connection, tmp_path, capsys
):
    # Everything that touches the committed schemas runs on connections of
    # its own: a lock taken in the test's transaction would be held until
    # the end, and the schemas could not be dropped.
    def run(log_dir):
        schemas = [alpha.schema_name, one, two, three]
        return in_own_connection(
            partial(call_command, "migrate_tenants", workers=2, log_dir=log_dir, schemas=schemas)
        )

    def state(schema_name):
        return in_own_connection(migration_state, schema_name)

    tenants = [committed_tenant(f"fleet-{name}") for name in ("one", "two", "three", "stock")]
    one, two, three, stock = (tenant.schema_name for tenant in tenants)
    for schema_name in (one, two, three, stock):
        in_own_connection(unapply_latest, schema_name)
    in_own_connection(block_index, two)
    current_before = state(alpha.schema_name)
    assert LATEST in current_before[0]
    assert LATEST not in state(one)[0]

    first_logs = tmp_path / "first"
    with pytest.raises(CommandError, match="1 schema"):
        run(first_logs)
    out, err = capsys.readouterr()
    assert "4 tenant schemas: 1 current, 2 migrated, 1 failed" in out
    assert f"{two}: " in err and INDEX in err
    # The current schema was skipped: no log, nothing applied there.
    assert logged(first_logs) == sorted([one, two, three])
    assert f'"{INDEX}" is not an index' in (first_logs / f"{two}.log").read_text()
    # 0002 (RemoveIndex, AddIndex) ran as the SQL planned once.
    assert "2 with SQL planned once, 0 by Django's executor" in out
    one_log = (first_logs / f"{one}.log").read_text()
    assert f"Applying {LATEST[0]}.{LATEST[1]} (SQL planned once)" in one_log
    assert 'CREATE INDEX "webhooks_delivery_due"' in one_log
    assert LATEST in state(one)[0] and LATEST in state(three)[0]
    # The failed schema is as it was: nothing applied, nothing recorded.
    assert LATEST not in state(two)[0]
    assert state(two)[1] == []

    # Repaired, a second run does only what is left.
    in_own_connection(unblock_index, two)
    second_logs = tmp_path / "second"
    run(second_logs)
    out, _err = capsys.readouterr()
    assert "4 tenant schemas: 3 current, 1 migrated, 0 failed" in out
    assert "(1 with SQL planned once" in out
    assert logged(second_logs) == [two]

    # The stock path on the fourth, then every schema compared with it and with alpha.
    in_own_connection(
        partial(
            call_command,
            "migrate_schemas",
            tenant=True,
            schema_name=stock,
            interactive=False,
            verbosity=0,
        )
    )
    expected = state(stock)
    assert expected == state(alpha.schema_name) == current_before
    assert "WHERE" in expected[1][0][0]  # the partial index of 0002
    for schema_name in (one, two, three):
        assert state(schema_name) == expected, schema_name
    # And the whole schema: every table's columns, indexes and constraints.
    stock_shape = in_own_connection(schema_shape, stock)
    for schema_name in (one, two, three):
        assert in_own_connection(schema_shape, schema_name) == stock_shape, schema_name


# --- Throwaway migrations: which plans go the fast path -------------------------

NULLABLE_COLUMN = """
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("webhooks", "{latest}")]
    operations = [
        migrations.AddField(
            "webhookdelivery", "fleet_note", models.CharField(max_length=40, null=True)
        ),
        migrations.AddField(
            "webhookdelivery",
            "fleet_code",
            models.CharField(max_length=10, db_index=True, default="x"),
        ),
        migrations.AddField(
            "webhookdelivery", "fleet_count", models.IntegerField(default=3)
        ),
        migrations.AddConstraint(
            "webhookdelivery",
            models.CheckConstraint(condition=models.Q(fleet_count__gte=0), name="fleet_count_gte"),
        ),
    ]
"""

WITH_PYTHON = """
from django.db import migrations


def mark(apps, schema_editor):
    schema_editor.execute("COMMENT ON COLUMN webhooks_webhookdelivery.fleet_note IS 'python ran'")


class Migration(migrations.Migration):
    dependencies = [("webhooks", "9001_nullable_column")]
    operations = [migrations.RunPython(mark, migrations.RunPython.noop)]
"""


def throwaway_package(folder: Path, name: str, extra: dict[str, str]) -> str:
    """webhooks' migrations copied to ``folder/name``, plus ``extra`` (file stem: source)."""
    package = folder / name
    shutil.copytree(
        Path(django_settings.BASE_DIR) / "webhooks" / "migrations",
        package,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    latest = max(path.stem for path in package.glob("0*.py"))
    for stem, source in extra.items():
        (package / f"{stem}.py").write_text(source.replace("{latest}", latest))
    return name


def column_comment(schema_name):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT col_description(%s::regclass, a.attnum) FROM pg_attribute a"
            " WHERE a.attrelid = %s::regclass AND a.attname = 'fleet_note'",
            [f"{schema_name}.webhooks_webhookdelivery"] * 2,
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_fast_path_leaves_what_migrate_schemas_leaves_and_runpython_goes_slow(
    committed_tenant, in_own_connection, tmp_path, monkeypatch, settings, capsys
):
    """
    A nullable column, a column with a default and an index, a check
    constraint: planned once, run in two schemas by two workers, and those
    schemas equal one migrated by migrate_schemas and one by our own slow
    path. Then a RunPython migration: every schema through Django's executor.
    """
    monkeypatch.syspath_prepend(str(tmp_path))
    column_only = throwaway_package(
        tmp_path, "fleet_test_column", {"9001_nullable_column": NULLABLE_COLUMN}
    )
    with_python = throwaway_package(
        tmp_path,
        "fleet_test_python",
        {"9001_nullable_column": NULLABLE_COLUMN, "9002_python": WITH_PYTHON},
    )
    tenants = [committed_tenant(f"fast-{name}") for name in ("one", "two", "stock", "slow")]
    one, two, stock, slow = (tenant.schema_name for tenant in tenants)

    def fleet(log_dir, schemas, **options):
        return in_own_connection(
            partial(
                fleet_migrate,
                workers=2,
                log_dir=log_dir,
                schema_names=schemas,
                template=False,
                spares=False,
                **options,
            )
        )

    def migrate_schemas(schema_name):
        in_own_connection(
            partial(
                call_command,
                "migrate_schemas",
                tenant=True,
                schema_name=schema_name,
                interactive=False,
                verbosity=0,
            )
        )

    def shape(schema_name):
        return in_own_connection(schema_shape, schema_name)

    settings.MIGRATION_MODULES = {"webhooks": column_only}
    before = shape(one)
    result = fleet(tmp_path / "fast", [one, two])
    assert sorted(r.schema_name for r in result.fast) == sorted([one, two])
    assert not result.failed
    log = (tmp_path / "fast" / f"{one}.log").read_text()
    assert "Applying webhooks.9001_nullable_column (SQL planned once)" in log
    assert 'ADD COLUMN "fleet_note" varchar(40) NULL' in log
    slow_result = fleet(tmp_path / "slow", [slow], fast=False)
    assert slow_result.migrated and not slow_result.fast
    migrate_schemas(stock)

    expected = shape(stock)
    assert expected != before
    assert ("webhooks", "9001_nullable_column") in expected["recorded"]
    assert any(column[1] == "fleet_note" for column in expected["columns"])
    assert any(c[1] == "fleet_count_gte" for c in expected["constraints"])
    for schema_name in (one, two, slow):
        assert shape(schema_name) == expected, schema_name

    # A RunPython migration is never planned once: each schema runs it.
    settings.MIGRATION_MODULES = {"webhooks": with_python}
    result = fleet(tmp_path / "python", [one, two])
    assert len(result.migrated) == 2 and not result.fast and not result.failed
    log = (tmp_path / "python" / f"{one}.log").read_text()
    assert "Django's executor, schema by schema: webhooks.9002_python: RunPython" in log
    assert "(SQL planned once)" not in log
    migrate_schemas(stock)
    expected = shape(stock)
    assert ("webhooks", "9002_python") in expected["recorded"]
    for schema_name in (one, two):
        assert in_own_connection(column_comment, schema_name) == "python ran"
        assert shape(schema_name) == expected, schema_name


@pytest.mark.django_db
def test_fast_apply_leaves_a_schema_alone_when_it_changed_since_planned(
    committed_tenant, in_own_connection, tmp_path
):
    """Another run got there first: the planned SQL is not run, nothing recorded twice."""
    schema_name = committed_tenant("fast-raced").schema_name
    expected = frozenset(migrations_on_disk())
    # A plan for a schema missing 0002, while this one misses nothing.
    plan = FastPlan((LATEST,), ("CREATE TABLE fleet_should_not_exist (id integer);",), expected)
    before = in_own_connection(schema_shape, schema_name)
    with open(tmp_path / "log", "w") as log:
        assert in_own_connection(fast_apply, schema_name, plan, log) is None
    assert in_own_connection(schema_shape, schema_name) == before


def _migration(*operations_, atomic=True, replaces=()):
    migration = migrations.Migration("9999_test", "webhooks")
    migration.operations = list(operations_)
    migration.atomic = atomic
    migration.replaces = list(replaces)
    return migration


@pytest.mark.parametrize(
    ("operation", "refused"),
    [
        (
            migrations.AddField("webhookdelivery", "x", models.CharField(max_length=5, null=True)),
            "",
        ),
        (migrations.AddField("webhookdelivery", "x", models.IntegerField(default=0)), ""),
        (migrations.RemoveIndex("webhookdelivery", "some_index"), ""),
        (migrations.RunPython(migrations.RunPython.noop), "RunPython"),
        (migrations.RunSQL("UPDATE webhooks_webhookdelivery SET status = status"), "RunSQL"),
        (migrations.AlterField("webhookdelivery", "status", models.TextField()), "AlterField"),
        (migrations.RemoveField("webhookdelivery", "status"), "RemoveField"),
        (migrations.CreateModel("Thing", [("id", models.AutoField(primary_key=True))]), "Create"),
        (
            migrations.AddField("webhookdelivery", "x", models.UUIDField(default=uuid.uuid4)),
            "callable default",
        ),
        (
            migrations.AddField("webhookdelivery", "x", models.DateTimeField(auto_now_add=True)),
            "auto_now",
        ),
        (
            AddIndexConcurrently("webhookdelivery", models.Index(fields=["status"], name="i")),
            "AddIndexConcurrently",
        ),
        (migrations.RenameIndex("webhookdelivery", "new", old_fields=("status",)), "catalog"),
    ],
)
def test_fast_path_takes_only_sql_that_is_the_same_in_every_schema(operation, refused):
    refusal = fast_path_refusal([(_migration(operation), False)])
    if refused:
        assert refused in refusal
    else:
        assert refusal == ""


def test_fast_path_refuses_non_atomic_backwards_and_squashed_migrations():
    add = migrations.AddField("webhookdelivery", "x", models.CharField(max_length=5, null=True))
    assert "not atomic" in fast_path_refusal([(_migration(add, atomic=False), False)])
    assert "unapplied" in fast_path_refusal([(_migration(add), True)])
    squashed = _migration(add, replaces=[("webhooks", "0001_initial")])
    assert "replaces" in fast_path_refusal([(squashed, False)])


@pytest.mark.django_db
def test_nothing_to_do_reads_and_reports(alpha, beta, tmp_path, capsys):
    call_command("migrate_tenants", workers=2, log_dir=tmp_path)
    out, _err = capsys.readouterr()
    assert "0 migrated, 0 failed" in out
    assert " 0 current" not in out
    assert logged(tmp_path) == []


@pytest.mark.django_db
def test_bad_input_is_refused(alpha, tmp_path):
    with pytest.raises(CommandError, match="--workers"):
        call_command("migrate_tenants", workers=0, log_dir=tmp_path)
    with pytest.raises(CommandError, match="t_nobody"):
        call_command("migrate_tenants", schemas=["t_nobody"], log_dir=tmp_path)
    assert logged(tmp_path) == []
