"""
Fleet migrations on 1,000 tenant schemas (manage.py migrate_tenants), against
django-tenants' ``migrate_schemas --tenant`` on the same schemas.

    DATABASE_URL=postgres://.../smartmaintenance_bench .venv/bin/python bench/migrations.py
        [--tenants 1000] [--workers N] [--stock-sample 20]

It makes tenants ``fleet-0000``... (copies of the template, as signups
make them; kept for the next run), then times, each in a fresh process as a
deploy would run them (Django's start included):

1. ``manage.py migrate_tenants`` with nothing to apply (target <= 60 s);
2. ``manage.py migrate_tenants`` applying one migration that adds a nullable
   column to a tenant table (target <= 180 s). The migration is a throwaway:
   written to a temporary copy of webhooks' migrations package, which a
   settings module of the bench's (``MIGRATION_MODULES``) puts in place of
   the real one; afterwards the column and its record are removed from
   every schema and the spare pool is refilled;
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
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _setup import FLEET_PREFIX, ROOT, tenants_ensure
from django.db import connection, transaction
from django_tenants.utils import schema_context
from psycopg2 import sql

from tenants.migrations_fleet import tenant_schema_names
from tenants.provisioning import TEMPLATE_SCHEMA, spares_drop, spares_fill
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
    args = parser.parse_args()

    tenants_ensure(PREFIX, args.tenants)
    fleet = tenant_schema_names()
    sample = [t for t in fleet if t.startswith("t_" + PREFIX.replace("-", "_"))][
        : args.stock_sample
    ]
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
            # The stock path on the sample, put back one migration first.
            column_remove(sample)
            stock_column = stock(sample, **kwargs)
        finally:
            with schema_context("public"):
                column_remove([*tenant_schema_names(), TEMPLATE_SCHEMA])
                spares_drop()
                spares_fill()

    scale = len(fleet) / len(sample)
    print(f"Fleet of {len(fleet)} tenant schemas, {args.workers} workers, process start included:")
    for label, ours, target, stocked in (
        ("nothing to apply", nothing, NOTHING_TARGET, stock_nothing),
        ("one nullable column", column, COLUMN_TARGET, stock_column),
    ):
        print(f"  {label}: migrate_tenants {ours:.1f} s (target <= {target} s)")
        print(
            f"    stock migrate_schemas: {stocked / len(sample):.3f} s a schema over "
            f"{len(sample)} schemas, scaled to {len(fleet)}: {stocked * scale:.0f} s "
            f"({stocked * scale / ours:.1f}x ours)"
        )
    connection.close()
    sys.exit(0 if nothing <= NOTHING_TARGET and column <= COLUMN_TARGET else 1)


if __name__ == "__main__":
    main()
