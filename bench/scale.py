"""
Many tenants stay flat: a tenant-routed API call spread over 1,000 tenants
against the same call spread over 10, in the same run.

    DATABASE_URL=postgres://... .venv/bin/python bench/scale.py [--tenants 1000] [--calls 3000]

The fleet's tenants (``fleet-0000``..., shared with bench/migrations.py and
bench/load.py; made the first time) each get an admin, an API key and a
few requests. Then ``GET /api/v1/me/`` goes straight through Django's
WSGIHandler with DEBUG off, round-robin over the first 10 tenants, then over
all of them, in alternating rounds: over 1,000 tenants each comes round only
after the routing cache (3 s) has expired, and the PostgreSQL backend has to
load the catalog of every schema it touches. Each answer is checked (the
admin's e-mail names the tenant). Prints the p50 of each side and the ratio
(target <= 1.10; exit status 1 when missed), then the resident memory of the
PostgreSQL backend serving this process and of this process (the web
worker) after all tenants were served: what ``CONN_MAX_AGE`` and gunicorn's
``max_requests`` bound in production (docs/deployment.md).
"""

import argparse
import gc
import json
import statistics
import sys
import time

import psutil
from _setup import FLEET_PREFIX, api_key_fresh, fleet_admin_email, tenants_ensure, wsgi_get
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test.utils import override_settings
from django_tenants.utils import tenant_context

from requests_app.models import MaintenanceRequest

TARGET = 1.10
ROWS = 3


def rows_ensure(tenant):
    with tenant_context(tenant):
        if MaintenanceRequest.objects.count() >= ROWS:
            return
        from accounts.models import User
        from requests_app.services import request_create

        admin = User.objects.get(email=fleet_admin_email(tenant))
        for n in range(ROWS):
            request_create(
                requester=admin, title=f"[{tenant.subdomain}] request {n}", priority="low"
            )


def rss_mb(pid) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def timed(handler, targets, calls) -> list[float]:
    """Microseconds per call, round-robin over ``targets`` (host, key, email)."""
    samples = []
    gc.collect()
    for index in range(calls):
        host, key, email = targets[index % len(targets)]
        started = time.perf_counter_ns()
        status, body = wsgi_get(handler, host, "/api/v1/me/", authorization=f"Bearer {key}")
        samples.append((time.perf_counter_ns() - started) / 1000)
        if not status.startswith("200") or json.loads(body)["email"] != email:
            raise AssertionError(f"{host}: {status} {body[:200]!r}")
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--few", type=int, default=10)
    parser.add_argument("--calls", type=int, default=3000, help="calls a side a round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    tenants = tenants_ensure(FLEET_PREFIX, args.tenants)
    started = time.monotonic()
    targets = []
    for tenant in tenants:
        key = api_key_fresh(tenant)
        rows_ensure(tenant)
        targets.append((tenant.get_primary_domain().domain, key, fleet_admin_email(tenant)))
    print(f"{len(targets)} keys made in {time.monotonic() - started:.0f} s")
    connection.set_schema_to_public()

    with override_settings(DEBUG=False):
        handler = WSGIHandler()
        timed(handler, targets, len(targets))  # warm-up: every tenant once, not timed
        few, many = [], []
        for _ in range(args.rounds):
            few += timed(handler, targets[: args.few], args.calls)
            many += timed(handler, targets, args.calls)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (backend_pid,) = cursor.fetchone()

    p50_few, p50_many = statistics.median(few), statistics.median(many)
    ratio = p50_many / p50_few
    print(
        f"GET /api/v1/me/ in process, DEBUG off, {args.rounds} rounds of {args.calls} calls a side:"
    )
    print(f"  over {args.few} tenants:   p50 {p50_few / 1000:.2f} ms")
    print(f"  over {len(targets)} tenants: p50 {p50_many / 1000:.2f} ms")
    print(f"  ratio {ratio:.2f} (target <= {TARGET})")
    try:
        backend = f"{rss_mb(backend_pid):.0f} MB"
    except psutil.Error:
        backend = "not readable (server on another machine)"
    print(f"  after serving all {len(targets)} tenants: PostgreSQL backend RSS {backend}, ", end="")
    print(f"web process RSS {rss_mb(None):.0f} MB")
    connection.close()
    sys.exit(0 if ratio <= TARGET else 1)


if __name__ == "__main__":
    main()
