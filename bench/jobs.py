"""
The daily fan-out at scale: the daily jobs sent to 1,000 tenants, and the time
until every tenant's task has finished, with two workers.

    DATABASE_URL=postgres://... .venv/bin/python bench/jobs.py [--tenants 1000] [--workers 2]
        [--all-jobs] [--keep]

Tenants named ``benchjobs-<n>`` are created (committed, each with its own
schema) unless they are there already from a run with ``--keep``; the fan-out
is narrowed to them, so other benchmarks' tenants (with work to do) stay out.
Two worker processes (one pool process each, as on a 2-core machine) are
started on the bench's own broker database; then one fan-out is sent for a
fixed instant, so every daily job (every job with ``--all-jobs``) is due
everywhere, and the bench polls until
every run it claimed has succeeded, reading the broker's queue length as it
goes. The jobs have nothing to do in empty tenants: what is measured is the
cost of sending, routing into the schema and recording each run.

Prints the fan-out's own time, the time to the last finished run, runs per
second and the queue's peak length. Target: <= 60 s for 1,000 tenants; the
exit status is 1 when it is missed or a run fails. The same run also times
the jobs executed in one process, schema after schema, with no broker (the
baseline of what the work itself costs), and prints the ratio.
"""

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartmaintenance.settings")

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django_tenants.utils import schema_context, tenant_context  # noqa: E402

from billing.services import tenant_create  # noqa: E402
from smartmaintenance.celery import app as celery_app  # noqa: E402
from tenants import jobs  # noqa: E402
from tenants.models import JobRun, Tenant  # noqa: E402
from tenants.provisioning import schema_drop, template_ensure  # noqa: E402

TARGET_SECONDS = 60
BENCH_BROKER_DB = 8
PREFIX = "benchjobs-"


def broker_url() -> str:
    url = settings.CELERY_BROKER_URL
    if url.startswith("redis+socket://"):
        return f"{url.split('?')[0]}?virtual_host={BENCH_BROKER_DB}"
    return url.rsplit("/", 1)[0] + f"/{BENCH_BROKER_DB}"


def redis_client(url):
    if url.startswith("redis+socket://"):
        path, _, _ = url[len("redis+socket://") :].partition("?")
        return redis.Redis(unix_socket_path=path, db=BENCH_BROKER_DB)
    return redis.Redis.from_url(url)


def tenants_ensure(count: int) -> list[Tenant]:
    existing = {t.subdomain: t for t in Tenant.objects.filter(subdomain__startswith=PREFIX)}
    made = []
    started = time.monotonic()
    for n in range(count):
        subdomain = f"{PREFIX}{n:04d}"
        if subdomain not in existing:
            made.append(
                tenant_create(name=f"Bench {n}", subdomain=subdomain, status=Tenant.Status.ACTIVE)
            )
            if len(made) % 100 == 0:
                print(f"  created {len(made)} tenants ({time.monotonic() - started:.0f} s)")
    print(f"{len(made)} tenants created, {count - len(made)} already there")
    return list(Tenant.objects.filter(subdomain__startswith=PREFIX))


def workers_start(count: int, url: str) -> list[subprocess.Popen]:
    env = {**os.environ, "REDIS_URL": url}
    processes = [
        subprocess.Popen(  # noqa: S603 - our own worker command
            [
                sys.executable,
                "-m",
                "celery",
                "--app",
                "smartmaintenance",
                "worker",
                "--pool",
                "solo",
                "--hostname",
                f"bench{n}@%h",
                "--loglevel",
                "WARNING",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for n in range(count)
    ]
    time.sleep(3)  # let them connect; not part of the measurement
    return processes


def baseline(tenants, selected) -> float:
    """Every job run in each schema in turn, in this process: the work without the machinery."""
    started = time.perf_counter()
    for tenant in tenants:
        with tenant_context(tenant):
            for job in selected:
                celery_app.tasks[job.task].run()
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the bench tenants for next time")
    parser.add_argument(
        "--all-jobs", action="store_true", help="the interval jobs too, as if all fell due at once"
    )
    args = parser.parse_args(argv)

    settings.TENANT_SPARE_SCHEMAS = 0
    celery_app.loader.import_default_modules()
    template_ensure()
    bench_tenants = tenants_ensure(args.tenants)
    url = broker_url()
    celery_app.conf.broker_url = url
    queue = redis_client(url)
    queue.flushdb()
    processes = workers_start(args.workers, url)
    failed = True
    try:
        now = datetime.now(UTC)
        selected = [
            job for job in jobs.jobs_registered() if args.all_jobs or job.local_hour is not None
        ]
        names = [job.name for job in selected]
        ours = Tenant.objects.filter(pk__in=[tenant.pk for tenant in bench_tenants])
        reached = len(bench_tenants)
        started = time.perf_counter()
        sent = jobs.jobs_fan_out(app=celery_app, now=now, tenants=ours, jobs=names)
        fanned_out = time.perf_counter() - started
        peak, finished = 0, 0
        while finished < sent:
            peak = max(peak, queue.llen("celery"))
            done = JobRun.objects.filter(queued=now).exclude(
                status__in=[JobRun.Status.QUEUED, JobRun.Status.STARTED]
            )
            finished = done.count()
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        failures = JobRun.objects.filter(queued=now, status=JobRun.Status.FAILED).count()
        baseline_all = baseline(bench_tenants, selected)

        print(
            f"fan-out: {sent} runs ({len(selected)} jobs x {reached} tenants: {', '.join(names)}) "
            f"sent in {fanned_out:.1f} s"
        )
        print(
            f"all finished in {elapsed:.1f} s with {args.workers} workers "
            f"({sent / elapsed:.0f} runs/s); queue peak {peak}; {failures} failed"
        )
        print(
            f"baseline, the same jobs run schema after schema in one process: {baseline_all:.1f} s "
            f"-> fan-out takes {elapsed / baseline_all:.2f}x the bare work"
        )
        scaled = elapsed * 1000 / reached
        print(f"target: <= {TARGET_SECONDS} s for 1,000 tenants; measured {scaled:.1f} s per 1,000")
        failed = failures > 0 or scaled > TARGET_SECONDS
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait()
        JobRun.objects.filter(tenant__in=bench_tenants).delete()
        if not args.keep:
            cleanup(bench_tenants)
    return 1 if failed else 0


def cleanup(tenants):
    connection.close()
    with transaction.atomic(), schema_context("public"):
        for relation in Tenant._meta.related_objects:
            relation.related_model._base_manager.filter(
                **{f"{relation.field.name}__in": tenants}
            ).delete()
        Tenant.objects.filter(pk__in=[tenant.pk for tenant in tenants]).delete()
    for tenant in tenants:
        with transaction.atomic():
            schema_drop(tenant.schema_name)
    print(f"cleaned up {len(tenants)} tenants")


if __name__ == "__main__":
    sys.exit(main())
