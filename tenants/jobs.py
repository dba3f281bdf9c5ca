"""
Periodic jobs: what runs by itself, for the platform or in every tenant.

Apps register their jobs in ``AppConfig.ready()``; this module, which knows
the tenants, decides when each is due and sends it. Celery beat runs one
platform task, ``tenants.tasks.periodic_jobs_fan_out``, every minute; it
records one ``JobRun`` per (job, tenant, slot) and sends the job's task to
each tenant whose slot has no run yet, in that tenant's schema.

A slot is what makes a run once-only: the tenant's local date for a daily job
(so "06:00" means six in the morning where the tenant is), the interval's
start for a job that repeats every few minutes. The run is inserted with
``ON CONFLICT DO NOTHING`` before its task is sent, so a fan-out that runs twice
(two beats, a retried fan-out) sends nothing twice; the jobs themselves are
idempotent as well, so a task redelivered after a crash does no harm.
"""

import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import models
from django.utils import timezone
from kombu.exceptions import OperationalError

from tenants.models import JobRun, Tenant

SCHEMA_HEADER = "_schema_name"
RUN_HEADER = "job_run"


@dataclass(frozen=True)
class PeriodicJob:
    """A task run in every active tenant, daily at a local hour or at an interval."""

    name: str
    task: str
    local_hour: int | None = None
    every: timedelta | None = None

    def slot(self, tenant_timezone: str, now: datetime) -> str:
        """The slot ``now`` falls in: the last one that has begun."""
        if self.every is not None:
            seconds = int(self.every.total_seconds())
            start = int(now.timestamp()) // seconds * seconds
            return datetime.fromtimestamp(start, tz=UTC).strftime("%Y-%m-%dT%H:%M")
        local = now.astimezone(zoneinfo.ZoneInfo(tenant_timezone))
        if local.hour < self.local_hour:
            local -= timedelta(days=1)
        return local.date().isoformat()


_jobs: dict[str, PeriodicJob] = {}


def job_register_daily(name: str, *, task: str, local_hour: int) -> None:
    """Run ``task`` in every active tenant once a day, at ``local_hour`` in its time zone."""
    if not 0 <= local_hour <= 23:
        raise ValueError(f"local_hour must be 0-23, not {local_hour}")
    _jobs[name] = PeriodicJob(name=name, task=task, local_hour=local_hour)


def job_register_every(name: str, *, task: str, every: timedelta) -> None:
    """Run ``task`` in every active tenant once in each interval of ``every``."""
    if every < timedelta(minutes=1):
        raise ValueError("the fan-out runs every minute: an interval must be at least that")
    _jobs[name] = PeriodicJob(name=name, task=task, every=every)


def jobs_registered() -> list[PeriodicJob]:
    return sorted(_jobs.values(), key=lambda job: job.name)


def tenants_running_jobs():
    """The tenants periodic jobs run in: every organisation not suspended or cancelled."""
    return Tenant.objects.exclude(subdomain=None).exclude(
        status__in=[Tenant.Status.SUSPENDED, Tenant.Status.CANCELLED]
    )


def _runs_claim(job: PeriodicJob, tenants, now) -> list[tuple[int, str]]:
    """Insert the runs due for ``job``; return (run id, schema) of those not there before."""
    claim = uuid.uuid4()
    JobRun.objects.bulk_create(
        [
            JobRun(
                job=job.name,
                tenant=tenant,
                slot=job.slot(tenant.timezone, now),
                queued=now,
                claim=claim,
            )
            for tenant in tenants
        ],
        ignore_conflicts=True,
    )
    # Rows already there are skipped silently; those inserted now carry our claim.
    claimed = JobRun.objects.filter(claim=claim)
    schemas = {tenant.pk: tenant.schema_name for tenant in tenants}
    return [
        (run_id, schemas[tenant_id]) for run_id, tenant_id in claimed.values_list("pk", "tenant_id")
    ]


def jobs_fan_out(*, app, now=None, tenants=None, jobs=None) -> int:
    """
    Send every job that is due in every tenant that runs jobs; return how many
    were sent. ``tenants`` (a queryset) and ``jobs`` (names) narrow it down.
    """
    now = now or timezone.now()
    running = tenants_running_jobs()
    if tenants is not None:
        running = running.filter(pk__in=tenants.values("pk"))
    tenants = list(running.only("pk", "schema_name", "timezone"))
    selected = [job for job in jobs_registered() if jobs is None or job.name in jobs]
    sent = 0
    for job in selected:
        for run_id, schema in _runs_claim(job, tenants, now):
            try:
                app.send_task(job.task, headers={SCHEMA_HEADER: schema, RUN_HEADER: run_id})
            except OperationalError:
                # The broker is down: give the slot back, the next fan-out claims it again.
                JobRun.objects.filter(pk=run_id, status=JobRun.Status.QUEUED).delete()
                raise
            sent += 1
    return sent


# A run not finished this long after it was queued is overdue: its task was
# lost, or is stuck. Far beyond any job's normal time, well below a day.
OVERDUE_AFTER = timedelta(hours=1)


def job_runs_overdue(runs=None, now=None):
    """The runs of ``runs`` (all by default) queued or started over OVERDUE_AFTER ago."""
    runs = JobRun.objects.all() if runs is None else runs
    return runs.filter(
        status__in=[JobRun.Status.QUEUED, JobRun.Status.STARTED],
        queued__lte=(now or timezone.now()) - OVERDUE_AFTER,
    )


# Finished runs are kept this long: interval jobs add about 500 rows a day per
# tenant, and only recent history (and failures, kept) are worth looking at.
SUCCEEDED_KEPT = timedelta(days=7)


def job_runs_prune(*, now=None) -> int:
    """Delete succeeded runs older than SUCCEEDED_KEPT; failures stay for the platform admin."""
    cutoff = (now or timezone.now()) - SUCCEEDED_KEPT
    deleted, _by_model = JobRun.objects.filter(
        status=JobRun.Status.SUCCEEDED, queued__lt=cutoff
    ).delete()
    return deleted


def _run_id(task) -> int | None:
    request = task.request
    return (request.headers or {}).get(RUN_HEADER) or request.get(RUN_HEADER)


def on_task_prerun(sender=None, task_id=None, task=None, **kwargs):
    if run_id := _run_id(task):
        JobRun.objects.filter(pk=run_id).update(
            status=JobRun.Status.STARTED,
            started=timezone.now(),
            task_id=task_id or "",
            attempts=models.F("attempts") + 1,
        )


def on_task_success(sender=None, **kwargs):
    if run_id := _run_id(sender):
        JobRun.objects.filter(pk=run_id).update(
            status=JobRun.Status.SUCCEEDED, finished=timezone.now(), error=""
        )


def on_task_failure(sender=None, exception=None, **kwargs):
    if run_id := _run_id(sender):
        JobRun.objects.filter(pk=run_id).update(
            status=JobRun.Status.FAILED, finished=timezone.now(), error=repr(exception)[:2000]
        )
