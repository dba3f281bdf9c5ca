"""
Many tenants stay flat: a tenant-routed API call spread over 1,000 tenants
against the same call spread over 10, in the same run.

    EMBEDDED_DATABASE_NAME=bench_scale .venv/bin/python bench/scale.py [--tenants 1000]
    DATABASE_URL=postgres://... .venv/bin/python bench/scale.py

The fleet's tenants (``fleet-0000``..., shared with bench/migrations.py and
bench/load.py; made the first time, ``--jobs`` at a time, and kept) each get
an admin, an API key and a few requests. The keys are kept too, in
``.data/bench/``, and used again by the next run (``--new-keys`` makes new
ones). Then ``GET /api/v1/me/`` goes straight through Django's WSGIHandler
with DEBUG off, round-robin over the first 10 tenants and over all of them:
the same number of calls a side, every tenant served twice first (not
timed), in short rounds whose order alternates (few-many, many-few, ...), so
that both sides share whatever else the machine is doing; each side's
rotation goes on from round to round. Over 1,000 tenants each comes round
only every few seconds, and the PostgreSQL backend has to find the catalog
and the pages of a different schema on every call. Each answer is checked
(the admin's e-mail names the tenant).

Prints PostgreSQL's ``shared_buffers``; each round's p50s and their ratio;
the median round's ratio (target <= 1.10, as bench/routing.py judges its
rounds; exit status 1 when missed) and the ratio of all rounds' p50s; per
side, the statements and the pages read from outside shared buffers a call
(with a note when the buffers are too small for the fleet's pages); each
tenant's first call on a new connection; then the memory of the PostgreSQL
backend serving this process and of this process (the web worker) after all
tenants were served, and the backend's again after a reconnect: what
``CONN_MAX_AGE`` and gunicorn's ``max_requests`` bound in production
(docs/deployment.md).
"""

import argparse
import gc
import json
import multiprocessing
import os
import statistics
import sys
import time

import psutil
from _setup import FLEET_PREFIX, ROOT, api_key_fresh, fleet_admin_email, tenants_ensure, wsgi_get
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections
from django.db.backends.signals import connection_created
from django.test.utils import override_settings
from django_tenants.utils import tenant_context

from accounts.models import User
from billing.services import tenant_create
from requests_app.models import MaintenanceRequest
from requests_app.services import request_create
from tenants.models import Domain, Tenant

TARGET = 1.10
ROWS = 3
KEY_NAME = "scale-bench"  # not load.py's "bench": each bench revokes only its own keys


def rows_ensure(tenant):
    with tenant_context(tenant):
        if MaintenanceRequest.objects.count() >= ROWS:
            return
        admin = User.objects.get(email=fleet_admin_email(tenant))
        for n in range(ROWS):
            request_create(
                requester=admin, title=f"[{tenant.subdomain}] request {n}", priority="low"
            )


def _create_some(subdomains):
    connections.close_all()  # forked: never use the parent's connection
    for subdomain in subdomains:
        tenant_create(name=subdomain, subdomain=subdomain, status=Tenant.Status.ACTIVE)
    connections.close_all()


def fleet_ensure(count, jobs):
    """The fleet's first ``count`` tenants, the missing ones made ``jobs`` at a time."""
    wanted = [f"{FLEET_PREFIX}{n:04d}" for n in range(count)]
    existing = set(Tenant.objects.filter(subdomain__in=wanted).values_list("subdomain", flat=True))
    missing = [subdomain for subdomain in wanted if subdomain not in existing]
    if jobs > 1 and missing:
        # As _setup.tenants_ensure() makes them (a copy of the template each),
        # in ``jobs`` processes: a copy mostly waits for the disk's fsyncs.
        tenants_ensure(FLEET_PREFIX, 0)  # the template, once, before forking
        connections.close_all()
        started = time.monotonic()
        context = multiprocessing.get_context("fork")
        processes = [
            context.Process(target=_create_some, args=(missing[job::jobs],)) for job in range(jobs)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
            if process.exitcode:
                sys.exit(f"making tenants failed (exit status {process.exitcode})")
        print(f"{len(missing)} tenants made in {time.monotonic() - started:.0f} s, {jobs} jobs")
    return tenants_ensure(FLEET_PREFIX, count)


def keys_file():
    """Where the keys are kept: one file per server and database, as the tenants are."""
    server = connection.settings_dict
    name = "-".join(str(server[part] or "local") for part in ("HOST", "PORT", "NAME"))
    return ROOT / ".data" / "bench" / f"scale-keys-{name.replace('/', '_')}.json"


def targets_ensure(tenants, new_keys) -> list[tuple[str, str, str]]:
    """(host, raw key, admin's e-mail) per tenant; keys from the last run unless ``new_keys``."""
    path = keys_file()
    kept = {} if new_keys or not path.exists() else json.loads(path.read_text())
    started, made = time.monotonic(), 0
    hosts = dict(
        Domain.objects.filter(tenant__in=tenants, is_primary=True).values_list("tenant", "domain")
    )
    targets = []
    for tenant in tenants:
        key = kept.get(tenant.subdomain)
        if key is None:
            key = kept[tenant.subdomain] = api_key_fresh(tenant, name=KEY_NAME)
            rows_ensure(tenant)
            made += 1
        targets.append((hosts[tenant.pk], key, fleet_admin_email(tenant)))
    if made:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(kept))
        print(f"{made} keys made in {time.monotonic() - started:.0f} s, kept in {path}")
    return targets


def rss_mb(pid) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def backend_memory() -> str:
    """This connection's PostgreSQL backend: RSS, and what it allocated (catalog caches apart)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
        cursor.execute(
            "SELECT sum(total_bytes), sum(total_bytes) FILTER (WHERE name = 'CacheMemoryContext'"
            " OR parent = 'CacheMemoryContext') FROM pg_backend_memory_contexts"
        )
        total, caches = cursor.fetchone()
    try:
        rss = f"RSS {rss_mb(pid):.0f} MB"
    except psutil.Error:
        rss = "RSS not readable (server on another machine)"
    return (
        f"{rss}, allocated {total / 2**20:.0f} MB of which catalog caches {caches / 2**20:.0f} MB"
    )


class Statements:
    """Counts the statements sent, by kind; the same small cost on both sides."""

    KINDS = {
        "host lookup": '"tenants_domain"',
        "SET search_path": "SET search_path",
        "key last_used write": 'UPDATE "accounts_apikey"',
    }

    def __init__(self):
        self.total = 0
        self.kinds = dict.fromkeys(self.KINDS, 0)
        self.connections = 0  # new server sessions: CONN_MAX_AGE recycles the connection
        self.pages_read = 0  # from outside shared buffers, while this side ran

    def __call__(self, execute, sql, params, many, context):
        self.total += 1
        for kind, marker in self.KINDS.items():
            if marker in sql:
                self.kinds[kind] += 1
        return execute(sql, params, many, context)

    def summary(self, calls) -> str:
        kinds = ", ".join(f"{kind} {count / calls:.2f}" for kind, count in self.kinds.items())
        return (
            f"{self.total / calls:.2f} statements a call ({kinds}); "
            f"{self.pages_read / calls:.1f} pages a call read from outside shared buffers; "
            f"{self.connections} new connections"
        )


def pages_read() -> int:
    """Pages the database has read from outside PostgreSQL's shared buffers (its own count)."""
    with connection.cursor() as cursor:
        # Statistics reach pg_stat_database when a backend goes idle, at most
        # once a second unless asked: ask, so that this process's are in.
        cursor.execute("SELECT pg_stat_force_next_flush()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT blks_read FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def timed(handler, targets, calls, statements=None, start=0) -> list[float]:
    """
    Microseconds per call, round-robin over ``targets`` (host, key, email)
    from the ``start``-th call of the rotation on.
    """
    if statements is not None:

        def connected(sender, connection, **kwargs):
            statements.connections += 1

        connection_created.connect(connected)
        before = pages_read()
        try:
            with connection.execute_wrapper(statements):
                return timed(handler, targets, calls, start=start)
        finally:
            connection_created.disconnect(connected)
            statements.pages_read += pages_read() - before
    samples = []
    gc.collect()
    for index in range(start, start + calls):
        host, key, email = targets[index % len(targets)]
        started = time.perf_counter_ns()
        status, body = wsgi_get(handler, host, "/api/v1/me/", authorization=f"Bearer {key}")
        samples.append((time.perf_counter_ns() - started) / 1000)
        if not status.startswith("200") or json.loads(body)["email"] != email:
            raise AssertionError(f"{host}: {status} {body[:200]!r}")
    return samples


def shared_buffers() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW shared_buffers")
        return cursor.fetchone()[0]


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--few", type=int, default=10)
    parser.add_argument("--calls", type=int, default=400, help="calls a side a round")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2, help="processes making missing tenants")
    parser.add_argument("--new-keys", action="store_true", help="revoke the kept keys, make new")
    args = parser.parse_args()

    tenants = fleet_ensure(args.tenants, args.jobs)
    targets = targets_ensure(tenants, args.new_keys)
    connection.set_schema_to_public()

    print(f"load average {load()} at the start; PostgreSQL's shared_buffers {shared_buffers()}")
    with override_settings(DEBUG=False):
        handler = WSGIHandler()
        # Warm-up, not timed: every tenant twice, as hosts looked up in a
        # process's first seconds are kept only briefly (tenants.routing).
        timed(handler, targets, 2 * len(targets))
        few, many, ratios = [], [], []
        statements = {id(few): Statements(), id(many): Statements()}
        for round_ in range(args.rounds):
            sides = [(few, targets[: args.few]), (many, targets)]
            samples = {}
            for side, side_targets in sides if round_ % 2 == 0 else reversed(sides):
                # Each side's rotation goes on where its last round stopped.
                samples[id(side)] = timed(
                    handler, side_targets, args.calls, statements[id(side)], start=len(side)
                )
                side += samples[id(side)]
            p50s = [statistics.median(samples[id(side)]) / 1000 for side in (few, many)]
            ratios.append(p50s[1] / p50s[0])
            print(f"  round {round_ + 1}: {p50s[0]:.2f} ms / {p50s[1]:.2f} ms = {ratios[-1]:.2f}")
        pages_many = statements[id(many)].pages_read / len(many)
        # Every tenant on one connection, which CONN_MAX_AGE must not recycle
        # half-way: what a backend holds after serving them all.
        connection.close()
        timed(handler, targets[:1], 1)
        connection.close_at = None
        cold = timed(handler, targets, len(targets))
        served_all = backend_memory()
    web_rss = rss_mb(None)
    # A recycled connection (CONN_MAX_AGE, max_requests) starts again from nothing.
    connection.close()
    with override_settings(DEBUG=False):
        timed(handler, targets[: args.few], args.few)
        recycled = backend_memory()

    p50_few, p50_many = statistics.median(few) / 1000, statistics.median(many) / 1000
    # Judged on the median round, as bench/routing.py is: each round pairs
    # the two sides within a few seconds, so a burst of the machine's other
    # work spoils a round or two, not the result.
    ratio = statistics.median(ratios)
    print(
        f"GET /api/v1/me/ in process, DEBUG off, {args.rounds} rounds of {args.calls} calls a side"
        f" (load average {load()} at the end):"
    )
    calls = args.rounds * args.calls
    for count, p50, side in ((args.few, p50_few, few), (len(targets), p50_many, many)):
        print(f"  over {count} tenants: p50 {p50:.2f} ms; {statements[id(side)].summary(calls)}")
    print(
        f"  ratio, median round: {ratio:.2f} (target <= {TARGET}); rounds "
        f"{min(ratios):.2f}-{max(ratios):.2f}; all rounds' p50s: {p50_many / p50_few:.2f}"
    )
    if pages_many >= 1:
        print(
            f"  NOTE: over {len(targets)} tenants each call read {pages_many:.0f} pages from"
            f" outside shared_buffers ({shared_buffers()}): smaller than this many tenants'"
            ' pages; size it for them in production (docs/deployment.md, "Memory")'
        )
    print(
        f"  each tenant's first call on a new connection (its catalog caches rebuilt):"
        f" p50 {statistics.median(cold) / 1000:.2f} ms"
    )
    print(f"  after serving all {len(targets)} tenants: PostgreSQL backend {served_all}")
    print(f"    web process RSS {web_rss:.0f} MB")
    print(f"  a new connection after serving {args.few} tenants: PostgreSQL backend {recycled}")
    connection.close()
    sys.exit(0 if ratio <= TARGET else 1)


if __name__ == "__main__":
    main()
