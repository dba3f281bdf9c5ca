"""
Load test: 50 concurrent clients over 100 tenants for 60 s against gunicorn
(``make serve``) on loopback, every answer checked against its tenant.

    DATABASE_URL=postgres://... .venv/bin/python bench/load.py [--clients 50] [--tenants 100]
        [--seconds 60] [--workers N] [--url http://127.0.0.1:8000]

Without ``--url`` it starts gunicorn itself as ``make serve`` does
(gunicorn.conf.py, DEBUG off, access log off) on a free port; with it, it
loads a server already running (``make serve``) on the same database.

The fleet's first ``--tenants`` tenants (``fleet-0000``..., shared with
bench/scale.py and bench/migrations.py) each get a fresh read-write API key
acting as their admin, whose e-mail names the tenant, and an unlimited rate
(the throttle still runs). Each client picks a random tenant for every call
and a random mix: 25 % pages (``/accounts/login/``, whose header shows the
tenant's name), 25 % ``/api/v1/me/`` (the admin's e-mail), 30 % request
lists (every title carries the tenant's marker) and 20 % writes (a request
filed with the marker in its title, answered with it). An answer that is not
2xx is an error; one carrying another tenant's marker, or missing its own,
is a wrong-tenant answer. Prints throughput, p50/p95/p99, errors and
wrong-tenant answers (targets: 0 and 0; exit status 1 otherwise).
"""

import argparse
import json
import random
import sys
import time

from _http import Gunicorn, collectstatic, request, run_clients
from _setup import FLEET_PREFIX, api_key_fresh, fleet_admin_email, tenants_ensure
from django.db import connection

MIX = (("page", 25), ("me", 25), ("list", 30), ("write", 20))


def marker(tenant_subdomain):
    return f"[{tenant_subdomain}]"


def wrong_tenant(kind, body, subdomain, email) -> bool:
    """Whether a 2xx answer to ``subdomain``'s request shows another tenant (or not its own)."""
    if kind == "page":
        return f'href="/">{subdomain}</a>' not in body.decode(errors="replace")
    data = json.loads(body)
    if kind == "me":
        return data.get("email") != email
    if kind == "list":
        return any(not row["title"].startswith(marker(subdomain)) for row in data["results"])
    return not data.get("title", "").startswith(marker(subdomain))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: its config's)")
    parser.add_argument("--url", help="a running server (make serve) instead of starting one")
    args = parser.parse_args()

    tenants = tenants_ensure(FLEET_PREFIX, args.tenants)
    targets = []
    for tenant in tenants:
        targets.append(
            (
                tenant.get_primary_domain().domain,
                api_key_fresh(tenant),
                (tenant.subdomain, fleet_admin_email(tenant)),
            )
        )
    connection.close()
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    counter = iter(range(10**9))

    def step(client, tally, port):
        host, key, target = random.choice(targets)
        kind = random.choice(kinds)
        auth = {"Authorization": f"Bearer {key}"}
        if kind == "page":
            call = ("GET", "/accounts/login/", None, {})
        elif kind == "me":
            call = ("GET", "/api/v1/me/", None, auth)
        elif kind == "list":
            call = ("GET", "/api/v1/requests/?page_size=20&ordering=-created", None, auth)
        else:
            body = json.dumps(
                {
                    "title": f"{marker(target[0])} load {client}-{next(counter)}",
                    "type": "general",
                    "priority": "low",
                }
            )
            call = ("POST", "/api/v1/requests/", body, {**auth, "Content-Type": "application/json"})
        method, path, body, headers = call
        started = time.perf_counter()
        try:
            status, answer = request(port, method, path, host, body=body, headers=headers)
        except OSError as error:
            tally.add(time.perf_counter() - started, error=f"{kind}: {error}")
            return
        seconds = time.perf_counter() - started
        if not 200 <= status < 300:
            tally.add(seconds, error=f"{kind} {status}: {answer[:120]!r}")
            return
        wrong = wrong_tenant(kind, answer, *target)
        tally.add(seconds, wrong=f"{kind} on {host}" if wrong else None)

    if args.url:
        port = int(args.url.rsplit(":", 1)[1].strip("/"))
        tally, wall = run_clients(args.clients, args.seconds, lambda c, t: step(c, t, port))
    else:
        collectstatic()
        with Gunicorn(args.workers) as port:
            tally, wall = run_clients(args.clients, args.seconds, lambda c, t: step(c, t, port))

    total = len(tally.latencies)
    print(
        f"{args.clients} clients over {len(targets)} tenants for {wall:.0f} s "
        f"(pages 25 %, API reads 55 %, writes 20 %):"
    )
    print(f"  {total} requests, {total / wall:.1f} requests/s")
    print(
        f"  latency p50 {tally.percentile(0.50) * 1000:.0f} ms, "
        f"p95 {tally.percentile(0.95) * 1000:.0f} ms, p99 {tally.percentile(0.99) * 1000:.0f} ms"
    )
    print(f"  errors: {len(tally.errors)} (target 0)")
    for error in tally.errors[:5]:
        print(f"    {error}")
    print(f"  wrong-tenant answers: {len(tally.wrong_tenant)} (target 0)")
    for wrong in tally.wrong_tenant[:5]:
        print(f"    {wrong}")
    sys.exit(0 if not tally.errors and not tally.wrong_tenant else 1)


if __name__ == "__main__":
    main()
