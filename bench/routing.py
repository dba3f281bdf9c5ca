"""
What tenant routing costs per request.

Times, in one run and in interleaved rounds, a minimal view that reads one row:

- *tenant*: on a tenant's subdomain, through the full middleware stack of
  settings.MIDDLEWARE (tenants.middleware.TenantRoutingMiddleware first) and
  the project's database backend;
- *baseline*: the same view and the same stack minus the routing middleware,
  on Django's own PostgreSQL backend with a fixed search_path (the tenant's
  schema): the application as it would be without tenancy.

It prints the median over rounds of each, and their ratio (target: at most
1.10). For comparison, a child process then measures stock django-tenants
(TenantMainMiddleware and django_tenants.postgresql_backend) the same way.

Requests go straight to Django's WSGIHandler, in process, without a network
or the test client, with DEBUG off. The bench uses the development database
(DATABASE_URL, or the embedded server), where it creates a tenant
``routing-bench`` and one user in it when they are missing.

    .venv/bin/python bench/routing.py [--requests 2000] [--rounds 20]
"""

import argparse
import gc
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartmaintenance.settings")

SUBDOMAIN = "routing-bench"
EMAIL = "routing-bench@example.com"
STOCK = os.environ.get("ROUTING_BENCH_STOCK") == "1"
OUR_MIDDLEWARE = "tenants.middleware.TenantRoutingMiddleware"
STOCK_MIDDLEWARE = "django_tenants.middleware.main.TenantMainMiddleware"


def configure():
    """Add the baseline's database alias (and, in the child, go stock) before setup."""
    from smartmaintenance import settings

    default = settings.DATABASES["default"]
    if STOCK:
        default["ENGINE"] = "django_tenants.postgresql_backend"
    # The schema is only known once the tenant exists; set in main().
    settings.DATABASES["baseline"] = {**default, "ENGINE": "django.db.backends.postgresql"}
    settings.DATABASES["baseline"]["OPTIONS"] = dict(default.get("OPTIONS", {}))


configure()

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.urls import path  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from accounts.models import User  # noqa: E402
from tenants.models import Tenant  # noqa: E402


def read_one_row(alias):
    def view(request):
        return HttpResponse(User.objects.using(alias).values_list("email", flat=True).get())

    return view


# This module is the URLconf of both stacks (ROOT_URLCONF, set in main()).
urlpatterns = [
    path("tenant/", read_one_row("default")),
    path("baseline/", read_one_row("baseline")),
]


def bench_tenant():
    """The bench's tenant and its one user, created on first use."""
    from accounts.services import user_create
    from billing.services import tenant_create
    from tenants.provisioning import template_ensure

    tenant = Tenant.objects.filter(subdomain=SUBDOMAIN).first()
    if tenant is None:
        template_ensure()  # about 35 s, once, if `manage.py tenant_template` never ran
        tenant = tenant_create(name="Routing bench", subdomain=SUBDOMAIN, status="active")
    with tenant_context(tenant):
        if not User.objects.filter(email=EMAIL).exists():
            user_create(email=EMAIL, password=None)
        assert list(User.objects.values_list("email", flat=True)) == [EMAIL]
    return tenant


def handler_for(middleware):
    with override_settings(MIDDLEWARE=middleware):
        return WSGIHandler()


def environ(host, url):
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": url,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": host,
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def start_response(status, headers, exc_info=None):
    if not status.startswith("200"):
        raise AssertionError(f"bench request answered {status}")


def serve(handler, host, url):
    response = handler(environ(host, url), start_response)
    body = b"".join(response)
    response.close()  # request_finished, as a WSGI server would send it
    return body


def round_time(handler, host, url, count):
    """Microseconds per request over ``count`` requests."""
    gc.collect()
    start = time.perf_counter_ns()
    for _ in range(count):
        serve(handler, host, url)
    return (time.perf_counter_ns() - start) / count / 1000


def measure(requests, rounds):
    tenant = bench_tenant()
    host = f"{SUBDOMAIN}.{settings.BASE_DOMAIN}"
    # The baseline: one schema, fixed for the session, as without tenancy.
    baseline = connections["baseline"]
    baseline.close()
    baseline.settings_dict["OPTIONS"]["options"] = f"-c search_path={tenant.schema_name}"

    routing = STOCK_MIDDLEWARE if STOCK else OUR_MIDDLEWARE
    middleware = [routing, *(m for m in settings.MIDDLEWARE if m != OUR_MIDDLEWARE)]
    arms = {
        "tenant": (handler_for(middleware), host, "/tenant/"),
        "baseline": (handler_for(middleware[1:]), host, "/baseline/"),
    }
    with override_settings(DEBUG=False, ROOT_URLCONF=__name__):
        for handler, arm_host, url in arms.values():
            assert serve(handler, arm_host, url) == EMAIL.encode()
            round_time(handler, arm_host, url, 200)  # warm up
        per_round = max(1, requests // rounds)
        times = {name: [] for name in arms}
        for index in range(rounds):
            # Alternate which arm goes first, so neither always runs on a warm cache.
            order = list(arms) if index % 2 == 0 else list(reversed(arms))
            for name in order:
                times[name].append(round_time(*arms[name], per_round))
    connection.close()
    return {name: statistics.median(values) for name, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per arm (default 2000)")
    parser.add_argument("--rounds", type=int, default=20, help="default 20")
    parser.add_argument("--no-stock", action="store_true", help="skip stock django-tenants")
    args = parser.parse_args()

    result = measure(args.requests, args.rounds)
    if STOCK:
        print(json.dumps(result))
        return

    ratio = result["tenant"] / result["baseline"]
    print(f"{args.requests} requests per arm in {args.rounds} interleaved rounds, median of rounds")
    print(f"  baseline (one schema, no routing): {result['baseline']:7.1f} µs/request")
    print(f"  tenant-routed:                     {result['tenant']:7.1f} µs/request")
    print(f"  ratio: {ratio:.3f} (target <= 1.10)")
    if not args.no_stock:
        child = subprocess.run(  # noqa: S603 (this script, again)
            [sys.executable, __file__, f"--requests={args.requests}", f"--rounds={args.rounds}"],
            env={**os.environ, "ROUTING_BENCH_STOCK": "1"},
            capture_output=True,
            text=True,
            check=True,
        )
        stock = json.loads(child.stdout.strip().splitlines()[-1])
        print(
            f"  stock django-tenants, for comparison: {stock['tenant']:7.1f} µs/request against "
            f"{stock['baseline']:.1f}, ratio {stock['tenant'] / stock['baseline']:.3f}"
        )
    sys.exit(0 if ratio <= 1.10 else 1)


if __name__ == "__main__":
    main()
