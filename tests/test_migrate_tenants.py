"""
manage.py migrate_tenants (tenants.migrations_fleet): skips current schemas,
migrates the stale ones in worker processes, resumes after a failure, and
leaves each schema as django-tenants' migrate_schemas would.

Tenants are committed (their workers have connections of their own) and put
one migration behind by really unapplying it: webhooks 0002, which swaps an
index for a partial one. A table named like that index makes 0002 fail in
one schema.
"""

from functools import partial

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import schema_context
from psycopg2 import sql

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
    assert f"Applying {LATEST[0]}.{LATEST[1]}" in (first_logs / f"{one}.log").read_text()
    assert LATEST in state(one)[0] and LATEST in state(three)[0]
    assert LATEST not in state(two)[0]

    # Repaired, a second run does only what is left.
    in_own_connection(unblock_index, two)
    second_logs = tmp_path / "second"
    run(second_logs)
    out, _err = capsys.readouterr()
    assert "4 tenant schemas: 3 current, 1 migrated, 0 failed" in out
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
