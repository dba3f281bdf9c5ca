"""
How long a new tenant takes to provision: our template copy against
django-tenants' stock path (running every tenant migration), in one run.

    DATABASE_URL=postgres://... .venv/bin/python bench/provisioning.py [--n 20] [--baseline-n 2]

Each tenant is committed, as a real signup is, and everything the run creates
(tenant rows, their related rows, schemas) is removed at the end, also on
error or Ctrl-C. The template schema is built first if missing or stale and is
left in place: it belongs to the deployment, not to the benchmark.

Target: p50 <= 150 ms and at least 10 times faster than the stock path. The
exit status is 1 when either is missed.
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartmaintenance.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django_tenants.utils import schema_context, tenant_context  # noqa: E402

from accounts.services import user_create  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.provisioning import schema_drop, template_ensure  # noqa: E402
from tenants.services import tenant_create  # noqa: E402

TARGET_P50_MS = 150
TARGET_RATIO = 10


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20, help="tenants provisioned our way")
    parser.add_argument(
        "--baseline-n", type=int, default=2, help="tenants migrated the stock way (~35 s each)"
    )
    parser.add_argument(
        "--hash-n", type=int, default=5, help="signups that also create an admin user"
    )
    args = parser.parse_args(argv)

    run = uuid.uuid4().hex[:6]
    tenant_ids, schemas = [], []
    try:
        started = time.perf_counter()
        built = template_ensure()
        print(
            f"template: {'built' if built else 'current'} "
            f"in {(time.perf_counter() - started) * 1000:.0f} ms (not counted)"
        )

        def provision(i):
            tenant = tenant_create(name=f"Bench {run} {i}", subdomain=f"bench-{run}-{i}")
            tenant_ids.append(tenant.pk)
            schemas.append(tenant.schema_name)
            return tenant

        # The first copy in a process pays for cold caches; a signup is
        # served by a warm worker.
        warmup = timed(lambda: provision("warmup"))
        print(f"warm-up: {warmup:.1f} ms (not counted)")

        ours = [timed(lambda i=i: provision(i)) for i in range(args.n)]
        report(f"ours: tenant_create (rows + schema copy, committed), n={args.n}", ours)

        def signup(i):
            with transaction.atomic():
                tenant = provision(f"s{i}")
                with tenant_context(tenant):
                    user_create(
                        email=f"admin@bench-{run}-s{i}.example",
                        password=f"bench-{uuid.uuid4().hex}",
                        full_name="Bench Admin",
                        is_staff=True,
                    )

        if args.hash_n:
            with_hash = [timed(lambda i=i: signup(i)) for i in range(args.hash_n)]
            report(
                f"ours + admin user with password hashing (not the target), n={args.hash_n}",
                with_hash,
            )

        def stock(i):
            # What django-tenants does on Tenant.save() with auto_create_schema
            # and no TENANT_BASE_SCHEMA: CREATE SCHEMA, then migrate_schemas.
            tenant = Tenant(schema_name=f"bench_{run}_stock_{i}")
            schemas.append(tenant.schema_name)
            tenant.create_schema(check_if_exists=False, verbosity=0)

        baseline = [timed(lambda i=i: stock(i)) for i in range(args.baseline_n)]
        if not baseline:
            return 0
        report(
            f"django-tenants migrate-per-tenant (Tenant.create_schema), n={args.baseline_n}",
            baseline,
        )

        ratio = statistics.median(baseline) / statistics.median(ours)
        p50 = statistics.median(ours)
        print(f"ratio: stock p50 / ours p50 = {ratio:.0f}x")
        fast_enough = p50 <= TARGET_P50_MS
        print(f"target p50 <= {TARGET_P50_MS} ms: {'met' if fast_enough else 'MISSED'}")
        print(f"target >= {TARGET_RATIO}x: {'met' if ratio >= TARGET_RATIO else 'MISSED'}")
        return 0 if fast_enough and ratio >= TARGET_RATIO else 1
    finally:
        cleanup(tenant_ids, schemas)


def timed(function):
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def report(label, samples):
    p95 = (
        f"{statistics.quantiles(samples, n=20, method='inclusive')[-1]:.1f} ms"
        if len(samples) > 1
        else "n/a"
    )
    print(
        f"{label}: p50 {statistics.median(samples):.1f} ms, p95 {p95}, "
        f"mean {statistics.mean(samples):.1f} ms"
    )


def cleanup(tenant_ids, schemas):
    """Remove the tenants this run made, with every row pointing at them, and their schemas."""
    # After Ctrl-C or a database error the old connection may be mid-statement.
    connection.close()
    with transaction.atomic(), schema_context("public"):
        # Rows that would only be set to NULL (an audit trail, say) are removed
        # too: they describe tenants that never existed for anyone.
        for relation in Tenant._meta.related_objects:
            relation.related_model._base_manager.filter(
                **{f"{relation.field.name}__in": tenant_ids}
            ).delete()
        Tenant.objects.filter(pk__in=tenant_ids).delete()
    # One transaction per schema: dropping them all at once takes a lock per
    # table of every schema, more than PostgreSQL's default lock table holds.
    for schema_name in schemas:
        with transaction.atomic():
            schema_drop(schema_name)
    print(f"cleaned up {len(tenant_ids)} tenants and {len(schemas)} schemas")


if __name__ == "__main__":
    sys.exit(main())
