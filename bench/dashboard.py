"""
What the dashboard costs as a tenant grows.

Times the whole dashboard (requests_app.dashboard.selectors.dashboard_get: summary,
requests per month, top assets) for a manager, who sees every request, in
two tenants built the same way, one holding 1,000 requests and one 100,000,
in the same run; prints the median over runs of each and their ratio
(target: at most 3). A requester's dashboard is timed too, for information.

The requests are generated as one organisation filing ``--per-month``
requests a month (default 1,000): the small tenant is that organisation
after a month, the large one after about eight years. Requests older than
two weeks are mostly closed or cancelled, with a small backlog left open
(0.5 %); the recent ones are spread over every status. Types, priorities,
200 assets (a fifth of the requests have none) and 20 requesters are spread
evenly. The rows are written with one ``INSERT ... SELECT generate_series``
per tenant, straight into the tenant's schema: the services (numbering,
plan limits, transition log) are bypassed on purpose, this is bench data.
Only the request table is filled; the dashboard reads nothing else but the
assets' names and the monthly rollup, which is then recounted from the rows
with ``requests_app.dashboard.rollup.dashboard_rollup_rebuild`` (what ``manage.py
rebuild_dashboard_rollup`` does after a bulk load), so that it holds what
the services would have kept. Then VACUUM ANALYZE, as autovacuum would
after a bulk load, so the planner has statistics and index-only scans work.

A manager is a lead: their dashboard is read from the rollup (a few hundred
rows for the 12-month window) plus the open requests; the requester's is
read live from their own requests. Before timing, the bench checks that the
manager's figures from the rollup equal the live queries over the rows.

``--explain`` prints EXPLAIN (ANALYZE, BUFFERS) of each dashboard query in
the large tenant, to see which indexes answer them.

The bench uses the database of DATABASE_URL (give it one of its own, see
bench/README.md), where it creates tenants ``dashboard-bench-1k`` and
``dashboard-bench-100k`` the first time and keeps them; their requests are
regenerated when the count is not the one asked for, or with
``--regenerate`` (needed after changing ``--per-month``).

    .venv/bin/python bench/dashboard.py [--runs 15] [--per-month 1000] [--regenerate] [--explain]
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartmaintenance.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.roles import BuiltinRole  # noqa: E402
from assets.models import Asset  # noqa: E402
from requests_app.dashboard import selectors as dashboard  # noqa: E402
from requests_app.dashboard.rollup import dashboard_rollup_rebuild, rollup_zone  # noqa: E402
from requests_app.dashboard.selectors import dashboard_get  # noqa: E402
from requests_app.models import (  # noqa: E402
    AssetMonthlyCount,
    MaintenanceRequest,
    RequestMonthlyCount,
)
from tenants.models import Tenant  # noqa: E402

SIZES = {"dashboard-bench-1k": 1_000, "dashboard-bench-100k": 100_000}
ASSETS = 200
REQUESTERS = 20
TARGET = 3.0


def bench_tenant(subdomain):
    from accounts.services import roles_provision_defaults, user_create
    from billing.services import tenant_create
    from tenants.provisioning import template_ensure

    tenant = Tenant.objects.filter(subdomain=subdomain).first()
    if tenant is None:
        template_ensure()  # about 35 s, once, if `manage.py tenant_template` never ran
        tenant = tenant_create(
            name=f"Dashboard bench {subdomain}",
            subdomain=subdomain,
            status="active",
            plan="premium",
        )
    with tenant_context(tenant):
        if not User.objects.filter(email="manager@dashboard.bench").exists():
            roles = roles_provision_defaults()
            user_create(
                email="manager@dashboard.bench", password=None, roles=[roles[BuiltinRole.MANAGER]]
            )
            for index in range(REQUESTERS):
                user_create(
                    email=f"requester{index}@dashboard.bench",
                    password=None,
                    roles=[roles[BuiltinRole.REQUESTER]],
                )
        if Asset.objects.count() != ASSETS:
            Asset.objects.all().delete()
            Asset.objects.bulk_create(
                Asset(name=f"Asset {index:03d}", asset_tag=f"DB-{index:03d}")
                for index in range(ASSETS)
            )
    return tenant


def fill(tenant, count, per_month, force=False):
    """Make ``count`` generated requests the tenant's only ones (kept if already so)."""
    with tenant_context(tenant):
        if not force and MaintenanceRequest.objects.count() == count:
            if rollup_zone() is None:  # made before the rollup existed
                dashboard_rollup_rebuild()
                analyze(tenant)
            return False
        requester_ids = list(
            User.objects.filter(email__startswith="requester")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        asset_ids = list(Asset.objects.order_by("pk").values_list("pk", flat=True))
        manager_id = User.objects.get(email="manager@dashboard.bench").pk
        table = MaintenanceRequest._meta.db_table
        per_day = per_month / 30.0
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table} CASCADE")
            # i = 1 is the newest. ``age`` in days; ``s`` is the status.
            cursor.execute(
                f"""
                INSERT INTO {table} (
                    number, title, description, type, priority, status, requester_id,
                    reporter_name, reporter_contact, assignee_id, asset_id, location_id,
                    due_at, created, updated, triaged_at, assigned_at, started_at,
                    on_hold_at, resolved_at, closed_at, cancelled_at, reopened_at
                )
                SELECT i, 'Bench request ' || i, '', t, p, s, r, '', '',
                    CASE WHEN s IN ('new', 'triaged', 'cancelled') THEN NULL ELSE %(manager)s END,
                    a, NULL,
                    c + CASE p WHEN 'urgent' THEN 4 WHEN 'high' THEN 24 WHEN 'medium' THEN 72
                        ELSE 168 END * interval '1 hour',
                    c, c,
                    CASE WHEN s IN ('new', 'cancelled') THEN NULL
                        ELSE c + (1 + i %% 8) * interval '1 hour' END,
                    CASE WHEN s IN ('new', 'triaged', 'cancelled') THEN NULL
                        ELSE c + (2 + i %% 8) * interval '1 hour' END,
                    CASE WHEN s IN ('new', 'triaged', 'assigned', 'cancelled', 'reopened')
                        THEN NULL ELSE c + (3 + i %% 8) * interval '1 hour' END,
                    CASE WHEN s = 'on_hold' THEN c + interval '12 hours' END,
                    CASE WHEN s IN ('resolved', 'closed')
                        THEN c + (4 + i %% 72) * interval '1 hour' END,
                    CASE WHEN s = 'closed' THEN c + (4 + i %% 72) * interval '1 hour'
                        + interval '7 days' END,
                    CASE WHEN s = 'cancelled' THEN c + interval '1 hour' END,
                    CASE WHEN s = 'reopened' THEN c + interval '3 days' END
                FROM (
                    SELECT i,
                        now() - ((i - 1) / %(per_day)s) * interval '1 day' AS c,
                        (ARRAY['electrical', 'plumbing', 'hvac', 'general'])[1 + i %% 4] AS t,
                        (ARRAY['low', 'medium', 'high', 'urgent'])[1 + (i / 4) %% 4] AS p,
                        CASE
                            WHEN (i - 1) / %(per_day)s < 14 THEN (ARRAY[
                                'new', 'triaged', 'assigned', 'in_progress', 'on_hold',
                                'resolved', 'closed', 'cancelled', 'reopened'
                            ])[1 + (i * 7) %% 9]
                            WHEN i %% 200 = 0 THEN 'assigned'
                            WHEN i %% 17 = 0 THEN 'cancelled'
                            ELSE 'closed'
                        END AS s,
                        (%(requesters)s::int[])[1 + i %% %(n_requesters)s] AS r,
                        CASE WHEN i %% 5 = 0 THEN NULL
                            ELSE (%(assets)s::int[])[1 + (i * 31) %% %(n_assets)s] END AS a
                    FROM generate_series(1, %(count)s) AS i
                ) AS generated
                """,  # noqa: S608 (our table name)
                {
                    "manager": manager_id,
                    "per_day": per_day,
                    "requesters": requester_ids,
                    "n_requesters": len(requester_ids),
                    "assets": asset_ids,
                    "n_assets": len(asset_ids),
                    "count": count,
                },
            )
        dashboard_rollup_rebuild()
        analyze(tenant)
    return True


def analyze(tenant):
    with tenant_context(tenant), connection.cursor() as cursor:
        for model in (MaintenanceRequest, RequestMonthlyCount, AssetMonthlyCount):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")


def check(tenant, user):
    """The manager's dashboard from the rollup equals the live queries over the rows."""
    with tenant_context(tenant):
        now = timezone.now()
        assert rollup_zone() is not None, "the rollup is not current"
        figures = dashboard_get(user, now=now)
        requests = MaintenanceRequest.objects.order_by()
        live = {
            "summary": dashboard._summary(requests, now),
            "per_month": dashboard._per_month(requests, now),
            "top_assets": dashboard._top_assets(requests, now),
        }
        for mean in ("mean_acknowledge", "mean_resolve"):
            difference = figures["summary"].pop(mean) - live["summary"].pop(mean)
            assert abs(difference.total_seconds()) <= 1e-6, mean
        assert figures == live, f"{tenant.subdomain}: the rollup disagrees with the rows"


def users(tenant):
    with tenant_context(tenant):
        return {
            "manager": User.objects.get(email="manager@dashboard.bench"),
            "requester": User.objects.get(email="requester0@dashboard.bench"),
        }


def time_dashboard(tenant, user, runs):
    """Median milliseconds of dashboard_get over ``runs`` (after two warm-up runs)."""
    with tenant_context(tenant):
        for _ in range(2):
            dashboard_get(user)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            dashboard_get(user)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(tenants, people, runs):
    """{(subdomain, who): ms}, the sizes interleaved run by run so both see the same machine."""
    results = {}
    for who in ("manager", "requester"):
        samples = {subdomain: [] for subdomain in tenants}
        for _ in range(3):
            for subdomain, tenant in tenants.items():
                samples[subdomain].append(time_dashboard(tenant, people[subdomain][who], runs))
        for subdomain in tenants:
            results[subdomain, who] = statistics.median(samples[subdomain])
    return results


def report(results, label):
    small, large = SIZES
    print(f"{label}:")
    ratios = {}
    for who in ("manager", "requester"):
        ratio = results[large, who] / results[small, who]
        ratios[who] = ratio
        print(
            f"  {who:9} dashboard: {results[small, who]:7.2f} ms at {SIZES[small]:>7,} requests,"
            f" {results[large, who]:7.2f} ms at {SIZES[large]:>7,}: ratio {ratio:.2f}"
            + (f" (target <= {TARGET:g})" if who == "manager" else "")
        )
    return ratios["manager"]


def explain(tenant, user):
    with tenant_context(tenant):
        with CaptureQueriesContext(connection) as captured:
            dashboard_get(user)
        with connection.cursor() as cursor:
            for query in captured.captured_queries:
                if "requests_app_" not in query["sql"]:
                    continue  # the user's roles
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                print("\n" + query["sql"][:160] + " ...")
                for (line,) in cursor.fetchall():
                    print("    " + line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per round (default 15)")
    parser.add_argument(
        "--per-month", type=int, default=1000, help="requests filed a month (default 1000)"
    )
    parser.add_argument(
        "--regenerate", action="store_true", help="regenerate the requests even if the count fits"
    )
    parser.add_argument("--explain", action="store_true", help="EXPLAIN the large tenant's queries")
    args = parser.parse_args()

    tenants = {subdomain: bench_tenant(subdomain) for subdomain in SIZES}
    for subdomain, tenant in tenants.items():
        started = time.perf_counter()
        if fill(tenant, SIZES[subdomain], args.per_month, args.regenerate):
            print(
                f"{subdomain}: {SIZES[subdomain]:,} requests generated in "
                f"{time.perf_counter() - started:.1f} s"
            )
    people = {subdomain: users(tenant) for subdomain, tenant in tenants.items()}
    for subdomain, tenant in tenants.items():
        check(tenant, people[subdomain]["manager"])
    large = list(SIZES)[-1]
    span = timedelta(days=SIZES[large] / (args.per_month / 30.0))
    print(
        f"{args.per_month:,} requests a month: the large tenant spans {span.days / 365:.1f} years;"
        f" median of {args.runs} runs, of 3 interleaved rounds, at {timezone.now():%Y-%m-%d %H:%M}"
    )

    ratio = report(measure(tenants, people, args.runs), "manager from the rollup")
    if args.explain:
        explain(tenants[large], people[large]["manager"])
    connection.close()
    sys.exit(0 if ratio <= TARGET else 1)


if __name__ == "__main__":
    main()
