"""
Fleet migrations on 1,000 tenant schemas (manage.py migrate_tenants), against
django-tenants' ``migrate_schemas --tenant`` on the same schemas.

    DATABASE_URL=postgres://.../smartmaintenance_bench .venv/bin/python bench/migrations.py
        [--tenants 1000] [--workers N] [--stock-sample 20] [--make-jobs 2] [--keep]
        [--executor-too] [--cleanup]

It makes the tenants ``fleet-0000``... that are missing, fast: their schemas
are copies of the template made as provisioning makes them
(``tenants.schema_copy``), each in a transaction with its ``Tenant`` and
``Domain`` rows, on ``--make-jobs`` connections at once (``migrate_tenants``
reads the ``Tenant`` table, so a schema without a row would not be part of
the fleet it migrates). No audit
entry, no first user, no signal: the schemas are what signups make, the
rest is not needed here. ``--keep`` keeps the tenants it made for the next
run (otherwise they are dropped at the end); ``--cleanup`` drops every
``fleet-`` tenant and exits. Then it times, each in a fresh process as a
deploy would run them (Django's start included):

1. ``manage.py migrate_tenants`` with nothing to apply (target <= 60 s);
2. ``manage.py migrate_tenants`` applying one migration that adds a nullable
   column to a tenant table (target <= 180 s). The migration is a throwaway:
   written to a temporary copy of webhooks' migrations package, which a
   settings module of the bench's (``MIGRATION_MODULES``) puts in place of
   the real one. The bench then checks that every schema has the column and
   the record, and that a schema migrated this way has the same columns,
   indexes and constraints on that table as one migrated by the stock
   command; afterwards the column and its record are removed from every
   schema and the spare pool is refilled;
   with ``--executor-too``, the same again with ``--no-fast-path`` (Django's
   executor in every schema, what ``migrate_tenants`` did before);
3. stock ``migrate_schemas --tenant --schema=...`` for both cases on the first
   ``--stock-sample`` schemas, schema after schema as ``migrate_schemas``
   does, scaled to the whole fleet (the full stock run takes many minutes;
   the line says it is scaled).

Other tenants in the database are part of the fleet too (migrate_tenants
takes every tenant): give the bench a database of its own. The exit status
is 1 when a target is missed.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _setup import FLEET_PREFIX, ROOT
from django.db import connection, transaction
from django_tenants.utils import schema_context
from psycopg2 import sql

from billing.plans import PlanCode, plan_limits
from tenants.migrations_fleet import tenant_schema_names
from tenants.models import Domain, Tenant
from tenants.provisioning import TEMPLATE_SCHEMA, spares_drop, spares_fill, template_ensure
from tenants.schema_copy import schema_copy
from tenants.services import tenant_domain_for
from webhooks.models import WebhookDelivery

PREFIX = FLEET_PREFIX
NOTHING_TARGET = 60
COLUMN_TARGET = 180
COLUMN = "bench_note"
MIGRATION_NAME = "9999_bench_nullable_column"

BENCH_SETTINGS = """
from smartmaintenance.settings import *  # noqa: F403

MIGRATION_MODULES = {"webhooks": "bench_webhooks_migrations"}
"""

MIGRATION = f"""
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("webhooks", "{{latest}}")]
    operations = [
        migrations.AddField(
            model_name="webhookdelivery",
            name="{COLUMN}",
            field=models.CharField(max_length=100, null=True),
        ),
    ]
"""

STOCK = """
import sys, time
import django
django.setup()
from django.core.management import call_command
started = time.perf_counter()
for schema_name in sys.argv[1:]:
    call_command("migrate_schemas", tenant=True, schema_name=schema_name, interactive=False,
                 verbosity=0)
print(time.perf_counter() - started)
"""


def throwaway_migrations(folder: Path) -> Path:
    """A copy of webhooks' migrations plus one adding a nullable column."""
    package = folder / "bench_webhooks_migrations"
    shutil.copytree(
        ROOT / "webhooks" / "migrations", package, ignore=shutil.ignore_patterns("__pycache__")
    )
    latest = max(path.stem for path in package.glob("0*.py"))
    (package / f"{MIGRATION_NAME}.py").write_text(MIGRATION.replace("{latest}", latest))
    (folder / "bench_migration_settings.py").write_text(BENCH_SETTINGS)
    return folder


def run(args, *, extra_path=None, settings=None) -> tuple[float, str]:
    env = dict(os.environ)
    if extra_path:
        env["PYTHONPATH"] = os.pathsep.join([str(extra_path), str(ROOT)])
        env["DJANGO_SETTINGS_MODULE"] = settings
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own commands
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"{args} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return elapsed, done.stdout


def stock(schema_names, **kwargs) -> float:
    _elapsed, out = run(["-c", STOCK, *schema_names], **kwargs)
    return float(out.strip().splitlines()[-1])


def _schema_name(subdomain: str) -> str:
    return "t_" + subdomain.replace("-", "_")


def fleet_make(prefix: str, count: int, jobs: int) -> list[str]:
    """
    The tenants ``<prefix>0000``... that are missing, each made in a
    transaction (its schema copied from the template, its Tenant and Domain
    rows), by ``jobs`` threads with connections of their own. Returns the
    subdomains made. One schema a transaction: a copy takes a lock on each
    of its ~400 relations, and a few copies in one transaction exhaust the
    server's lock table (max_locks_per_transaction).
    """
    template_ensure()
    with schema_context("public"):
        existing = set(
            Tenant.objects.filter(subdomain__startswith=prefix).values_list("subdomain", flat=True)
        )
    wanted = [f"{prefix}{n:04d}" for n in range(count)]
    missing = [subdomain for subdomain in wanted if subdomain not in existing]
    batches = [[subdomain] for subdomain in missing]
    lock, made, started = threading.Lock(), [], time.monotonic()
    limits = plan_limits(PlanCode.FREE)

    def make(batch):
        with schema_context("public"), transaction.atomic(), connection.cursor() as cursor:
            for subdomain in batch:
                cursor.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(_schema_name(subdomain))
                    )
                )
                schema_copy(cursor, TEMPLATE_SCHEMA, _schema_name(subdomain))
            tenants = Tenant.objects.bulk_create(
                Tenant(
                    name=subdomain,
                    subdomain=subdomain,
                    schema_name=_schema_name(subdomain),
                    plan=PlanCode.FREE,
                    status=Tenant.Status.ACTIVE,
                    **limits,
                )
                for subdomain in batch
            )
            Domain.objects.bulk_create(
                Domain(domain=tenant_domain_for(t.subdomain), tenant=t, is_primary=True)
                for t in tenants
            )
        with lock:
            made.extend(batch)
            if len(made) % 100 < len(batch):
                elapsed = time.monotonic() - started
                print(f"  made {len(made)}/{len(missing)} tenants ({elapsed:.0f} s)", flush=True)

    def worker():
        try:
            while True:
                with lock:
                    if not batches:
                        return
                    batch = batches.pop(0)
                make(batch)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(max(1, jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(made) != len(missing):
        raise RuntimeError(f"made {len(made)} of {len(missing)} tenants (see the error above)")
    if missing:
        elapsed = time.monotonic() - started
        print(
            f"{len(missing)} tenants made in {elapsed:.0f} s "
            f"({elapsed / len(missing) * jobs:.2f} s each on {jobs} connections), "
            f"{count - len(missing)} kept",
            flush=True,
        )
    return missing


def fleet_drop(subdomains) -> None:
    """Drop these tenants' schemas and rows, two schemas a transaction (locks, as above)."""
    subdomains = list(subdomains)
    for start in range(0, len(subdomains), 2):
        batch = subdomains[start : start + 2]
        with schema_context("public"), transaction.atomic(), connection.cursor() as cursor:
            for subdomain in batch:
                cursor.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(_schema_name(subdomain))
                    )
                )
            Domain.objects.filter(tenant__subdomain__in=batch).delete()
            Tenant.objects.filter(subdomain__in=batch).delete()
    if subdomains:
        print(f"dropped {len(subdomains)} bench tenants")


def table_shape(schema_name: str) -> tuple:
    """Columns, indexes and constraints of the bench's table in one schema."""
    table = WebhookDelivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type, character_maximum_length, is_nullable,"
            " column_default FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s ORDER BY column_name",
            [schema_name, table],
        )
        columns = cursor.fetchall()
        cursor.execute(
            "SELECT indexname, replace(indexdef, %s, 'S') FROM pg_indexes"
            " WHERE schemaname = %s AND tablename = %s ORDER BY indexname",
            [schema_name, schema_name, table],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, replace(pg_get_constraintdef(oid), %s, 'S') FROM pg_constraint"
            " WHERE conrelid = (quote_ident(%s) || '.' || quote_ident(%s))::regclass"
            " ORDER BY conname",
            [schema_name, schema_name, table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            sql.SQL("SELECT app, name FROM {}.django_migrations ORDER BY app, name").format(
                sql.Identifier(schema_name)
            )
        )
        recorded = cursor.fetchall()
    return columns, indexes, constraints, recorded


def column_count() -> int:
    """How many schemas have the bench's column and its migration's record."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            " WHERE c.relname = %s AND a.attname = %s AND NOT a.attisdropped",
            [WebhookDelivery._meta.db_table, COLUMN],
        )
        (columns,) = cursor.fetchone()
    return columns


def column_remove(schema_names) -> None:
    """Undo the throwaway migration everywhere, in batches of a hundred schemas."""
    table = WebhookDelivery._meta.db_table
    for start in range(0, len(schema_names), 100):
        statements = []
        for schema_name in schema_names[start : start + 100]:
            statements.append(
                sql.SQL("ALTER TABLE {}.{} DROP COLUMN IF EXISTS {}").format(
                    sql.Identifier(schema_name), sql.Identifier(table), sql.Identifier(COLUMN)
                )
            )
            statements.append(
                sql.SQL(
                    "DELETE FROM {}.django_migrations WHERE app = 'webhooks' AND name = {}"
                ).format(sql.Identifier(schema_name), sql.Literal(MIGRATION_NAME))
            )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql.SQL(";\n").join(statements))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--stock-sample", type=int, default=20)
    parser.add_argument(
        "--make-jobs", type=int, default=2, help="connections making the missing tenants"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the tenants this run makes, for the next run"
    )
    parser.add_argument(
        "--executor-too",
        action="store_true",
        help="also time the column with migrate_tenants --no-fast-path (minutes at 1,000)",
    )
    parser.add_argument(
        "--cleanup", action="store_true", help="drop every fleet- tenant and its schema, then exit"
    )
    args = parser.parse_args()

    if args.cleanup:
        with schema_context("public"):
            fleet_drop(
                Tenant.objects.filter(subdomain__startswith=PREFIX)
                .order_by("subdomain")
                .values_list("subdomain", flat=True)
            )
            spares_drop()
        connection.close()
        return

    made = fleet_make(PREFIX, args.tenants, args.make_jobs)
    try:
        status = measure(args)
    finally:
        if not args.keep:
            fleet_drop(made)
    connection.close()
    sys.exit(status)


def measure(args) -> int:
    with open("/proc/loadavg") as loadavg:
        print(f"load average at the start: {loadavg.read().strip()}")
    fleet = tenant_schema_names()
    sample = [_schema_name(f"{PREFIX}{n:04d}") for n in range(args.tenants)][: args.stock_sample]
    print(f"{len(fleet)} tenant schemas in the database ({args.tenants} of the bench's)")
    # Not timed: bring everything current first (an earlier run may have stopped half way).
    run(["manage.py", "migrate_tenants", "--workers", str(args.workers)])

    nothing, out = run(["manage.py", "migrate_tenants", "--workers", str(args.workers)])
    print(out.strip().splitlines()[-1])
    stock_nothing = stock(sample)

    with tempfile.TemporaryDirectory() as folder:
        extra = throwaway_migrations(Path(folder))
        kwargs = {"extra_path": extra, "settings": "bench_migration_settings"}
        try:
            column, out = run(
                ["manage.py", "migrate_tenants", "--workers", str(args.workers)], **kwargs
            )
            print(out.strip().splitlines()[-1])
            planned_once = re.search(r"\((\d+) with SQL planned once", out)
            planned_once = int(planned_once.group(1)) if planned_once else 0
            # Every schema and the template got it, and each record says so.
            with_column = column_count()
            assert with_column >= len(fleet) + 1, f"{with_column} schemas have the column"
            fast_shape = table_shape(sample[-1])
            executor = None
            if args.executor_too:
                with schema_context("public"):
                    column_remove([*fleet, TEMPLATE_SCHEMA])
                executor, out = run(
                    [
                        "manage.py",
                        "migrate_tenants",
                        "--no-fast-path",
                        "--workers",
                        str(args.workers),
                    ],
                    **kwargs,
                )
                print(out.strip().splitlines()[-1])
                assert column_count() >= len(fleet) + 1
            # The stock path on the sample, put back one migration first.
            column_remove(sample)
            stock_column = stock(sample, **kwargs)
            same = table_shape(sample[0]) == fast_shape
            assert same, "a schema migrated by migrate_tenants differs from migrate_schemas'"
        finally:
            with schema_context("public"):
                column_remove([*tenant_schema_names(), TEMPLATE_SCHEMA])
                spares_drop()
                spares_fill()

    scale = len(fleet) / len(sample)
    print(f"Fleet of {len(fleet)} tenant schemas, {args.workers} workers, process start included:")
    print(
        f"  (column: {planned_once} schemas ran the SQL planned once; the table's columns, "
        f"indexes, constraints and migration records equal migrate_schemas' on {sample[0]})"
    )
    for label, ours, target, stocked in (
        ("nothing to apply", nothing, NOTHING_TARGET, stock_nothing),
        ("one nullable column", column, COLUMN_TARGET, stock_column),
    ):
        print(f"  {label}: migrate_tenants {ours:.1f} s (target <= {target} s)")
        if label == "one nullable column" and executor is not None:
            print(
                f"    migrate_tenants --no-fast-path (Django's executor in each schema): "
                f"{executor:.1f} s ({executor / ours:.1f}x ours)"
            )
        print(
            f"    stock migrate_schemas: {stocked / len(sample):.3f} s a schema over "
            f"{len(sample)} schemas, scaled to {len(fleet)}: {stocked * scale:.0f} s "
            f"({stocked * scale / ours:.1f}x ours)"
        )
    with open("/proc/loadavg") as loadavg:
        print(f"  load average at the end: {loadavg.read().strip()}")
    return 0 if nothing <= NOTHING_TARGET and column <= COLUMN_TARGET else 1


if __name__ == "__main__":
    main()
