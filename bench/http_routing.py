"""
Requests per second through gunicorn on loopback: a tenant-routed page and
API call against the same views without tenant routing.

    DATABASE_URL=postgres://... .venv/bin/python bench/http_routing.py [--seconds 5] [--rounds 3]
        [--clients 8] [--workers 2]

Two gunicorn servers run side by side, both with gunicorn.conf.py and DEBUG
off as ``make serve`` runs it (access log off):

- *tenant*: the project as it is; the host picks the tenant (cached routing,
  ``SET search_path`` only when needed);
- *baseline*: the same views and middleware, but the routing middleware is
  replaced by one handing every request the same tenant object (no host
  parsing, no lookup, no URLconf switch; the connection stays on the
  tenant's schema, so no ``SET search_path`` either). The views read
  ``connection.tenant`` (plan gate, throttle), so the project's database
  backend stays: the application as close to "without tenancy" as it runs.

Calls: ``GET /accounts/login/`` (a rendered page with a CSRF token) and
``GET /api/v1/me/`` with an API key (key lookup, plan gate, throttle). Each
is run for ``--seconds`` on each server in alternating rounds by
``--clients`` threads; the median round's rate is reported with the ratio
(target >= 0.9; exit status 1 when missed). The load generator shares the
machine's cores with the servers, so absolute rates are a floor.
"""

import argparse
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from _http import Gunicorn, collectstatic, request, run_clients
from _setup import FLEET_PREFIX, ROOT, api_key_fresh, fleet_admin_email, tenants_ensure
from django.db import connection

TARGET = 0.9

BASELINE_SETTINGS = """
from smartmaintenance.settings import *  # noqa: F403

ROUTING = "tenants.middleware.TenantRoutingMiddleware"
MIDDLEWARE = [
    "bench_fixed_tenant.FixedTenantMiddleware" if name == ROUTING else name
    for name in MIDDLEWARE
]
ROOT_URLCONF = "smartmaintenance.urls_tenant"
"""

FIXED_TENANT = """
from django.db import connection

from tenants.models import Tenant

_tenant = None


class FixedTenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        global _tenant
        if _tenant is None:
            _tenant = Tenant.objects.get(schema_name="{schema}")
        request.tenant = _tenant
        # Sends no SET search_path when the connection is already there.
        connection.set_tenant(_tenant)
        return self.get_response(request)
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    (tenant,) = tenants_ensure(FLEET_PREFIX, 1)
    key = api_key_fresh(tenant)
    host = tenant.get_primary_domain().domain
    email = fleet_admin_email(tenant)
    connection.close()
    collectstatic()
    calls = {
        "page": ("/accounts/login/", {}, tenant.name.encode()),
        "api": ("/api/v1/me/", {"Authorization": f"Bearer {key}"}, email.encode()),
    }

    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "bench_http_baseline.py").write_text(
            BASELINE_SETTINGS.replace("{schema}", tenant.schema_name)
        )
        Path(folder, "bench_fixed_tenant.py").write_text(
            FIXED_TENANT.replace("{schema}", tenant.schema_name)
        )
        baseline_env = {
            "DJANGO_SETTINGS_MODULE": "bench_http_baseline",
            "PYTHONPATH": f"{folder}:{ROOT}",
        }
        with (
            Gunicorn(args.workers) as ours,
            Gunicorn(args.workers, **baseline_env) as baseline,
        ):
            rates = {(name, side): [] for name in calls for side in ("tenant", "baseline")}
            for name, (path, headers, marker) in calls.items():
                for side, port in (("tenant", ours), ("baseline", baseline)):
                    status, body = request(port, "GET", path, host, headers=headers)
                    assert status == 200 and marker in body, (side, name, status, body[:300])
                for index in range(args.rounds):
                    order = [("tenant", ours), ("baseline", baseline)]
                    for side, port in order if index % 2 == 0 else order[::-1]:

                        def step(_client, tally, port=port, path=path, headers=headers):
                            started = time.perf_counter()
                            status, _body = request(port, "GET", path, host, headers=headers)
                            tally.add(time.perf_counter() - started, error=status != 200)

                        tally, wall = run_clients(args.clients, args.seconds, step)
                        if tally.errors:
                            raise AssertionError(f"{side} {name}: {len(tally.errors)} errors")
                        rates[(name, side)].append(len(tally.latencies) / wall)

    print(
        textwrap.dedent(f"""\
        gunicorn on loopback, {args.workers} sync workers a server, {args.clients} client threads,
        median of {args.rounds} alternating rounds of {args.seconds:g} s:""")
    )
    worst = float("inf")
    for name, (path, _headers, _marker) in calls.items():
        tenant_rate = statistics.median(rates[(name, "tenant")])
        baseline_rate = statistics.median(rates[(name, "baseline")])
        ratio = tenant_rate / baseline_rate
        worst = min(worst, ratio)
        print(
            f"  {path:18} tenant-routed {tenant_rate:7.1f}/s, without routing "
            f"{baseline_rate:7.1f}/s: {ratio:.2f} (target >= {TARGET})"
        )
    sys.exit(0 if worst >= TARGET else 1)


if __name__ == "__main__":
    main()
