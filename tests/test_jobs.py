"""
Background work: where tasks run, the periodic fan-out, and a real worker
surviving the loss of a process. The worker is a real Celery worker on the
test database and the tests' own broker database (tests/worker_process.py),
so these tests commit what it must see (``committed_tenant``, ``in_own_connection``).
"""

import time
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import partial

import pytest
from django.apps import apps
from django.core import mail
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context
from worker_process import Worker

from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from assets.services import asset_create
from billing.models import UsageSnapshot
from outbox.models import OutboundEmail
from outbox.tasks import email_send, emails_sweep
from preventive.services import schedule_create
from requests_app.models import MaintenanceRequest
from requests_app.services import request_create, request_transition
from smartmaintenance.celery import app as celery_app
from smartmaintenance.tasks import PlatformTask, TaskWithoutTenant, TenantTask
from tenants import jobs
from tenants.models import JobRun, Tenant
from tenants.services import tenant_cancel, tenant_suspend
from tenants.tasks import periodic_jobs_fan_out
from tests.conftest import TenantClient

OUTBOX = "outbox.backends.OutboxBackend"


@pytest.fixture
def mail_dir(tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir()
    return folder


@pytest.fixture
def worker(tmp_path, mail_dir):
    """Start a worker with ``worker(**environment)``; stopped when the test ends."""
    started = []

    def start(concurrency=1, **environment):
        environment = {
            "EMAIL_DELIVERY_BACKEND": "slow_mail.SlowFileBackend",
            "TEST_MAIL_DIR": str(mail_dir),
            **environment,
        }
        started.append(
            Worker(tmp_path / f"worker-{len(started)}.log", concurrency, **environment).start()
        )
        return started[-1]

    yield start
    for process in started:
        process.stop()


def _sent(mail_dir) -> list[str]:
    return sorted(path.read_text() for path in mail_dir.glob("sent-*.eml"))


def _wait_for(condition, worker, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"Not done within {timeout}s. Worker log:\n{worker.output()}")


def _store_mail(tenant, subject, *, age=timedelta(0)):
    """Commit a pending message in ``tenant``'s outbox, as a web request would."""
    with tenant_context(tenant), transaction.atomic():
        email = OutboundEmail.objects.create(
            subject=subject, body="Body", from_email="noreply@localhost", to=["someone@example.com"]
        )
        OutboundEmail.objects.filter(pk=email.pk).update(created=email.created - age)
        return email.pk


# --- Where a task runs ---------------------------------------------------------------------


def test_a_task_is_a_tenant_task_unless_declared_otherwise():
    @celery_app.task(name="tests.undeclared")
    def undeclared():
        return "ran"

    assert isinstance(undeclared, TenantTask)
    assert isinstance(periodic_jobs_fan_out, PlatformTask)
    assert isinstance(emails_sweep, TenantTask)


def test_a_tenant_task_without_a_tenant_fails_loudly(public_tenant):
    result = emails_sweep.apply()  # queued from the public schema

    assert result.failed()
    assert isinstance(result.result, TaskWithoutTenant)
    assert "outbox.tasks.emails_sweep is a tenant task" in str(result.result)


def test_a_tenant_task_queued_in_a_tenant_runs_there(alpha):
    result = emails_sweep.apply()

    assert result.successful()


def test_a_platform_task_runs_in_the_public_schema_wherever_it_was_queued(alpha):
    seen = []

    @celery_app.task(name="tests.platform_probe", base=PlatformTask)
    def probe():
        seen.append(connection.schema_name)

    probe.apply(headers={"_schema_name": alpha.schema_name})

    assert seen == ["public"]


# --- Periodic jobs: slots in the tenant's time zone -----------------------------------------


def test_a_daily_job_falls_due_at_its_local_hour_in_each_time_zone():
    job = jobs.PeriodicJob(name="test.daily", task="t", local_hour=6)
    instant = datetime(2026, 3, 10, 20, 30, tzinfo=UTC)  # 05:30 in Tokyo on the 11th

    assert job.slot("Asia/Tokyo", instant) == "2026-03-10"
    assert job.slot("Asia/Tokyo", instant + timedelta(minutes=30)) == "2026-03-11"
    assert job.slot("America/New_York", instant) == "2026-03-10"  # 16:30 there
    assert job.slot("UTC", instant) == "2026-03-10"


def test_an_interval_job_has_one_slot_per_interval():
    job = jobs.PeriodicJob(name="test.every", task="t", every=timedelta(minutes=5))
    start = datetime(2026, 3, 10, 20, 30, tzinfo=UTC)

    assert job.slot("Asia/Tokyo", start) == job.slot(
        "UTC", start + timedelta(minutes=4, seconds=59)
    )
    assert job.slot("UTC", start) != job.slot("UTC", start + timedelta(minutes=5))


class _Recorder:
    """Stands in for the Celery app: records what the fan-out sends."""

    def __init__(self):
        self.sent = []

    def send_task(self, name, headers):
        self.sent.append((name, headers[jobs.SCHEMA_HEADER]))


@pytest.fixture
def daily_job():
    jobs.job_register_daily("test.daily", task="tests.daily", local_hour=6)
    yield jobs._jobs["test.daily"]
    del jobs._jobs["test.daily"]


def test_the_fan_out_sends_each_job_once_per_slot_to_active_tenants_only(
    make_tenant, alpha, daily_job
):
    with schema_context("public"):
        tokyo = make_tenant("tokyo", status=Tenant.Status.ACTIVE, timezone="Asia/Tokyo")
        suspended = make_tenant("dormant", status=Tenant.Status.ACTIVE)
        tenant_suspend(tenant=suspended, reason="Unpaid", actor="test")
        cancelled = make_tenant("gone", status=Tenant.Status.ACTIVE)
        tenant_cancel(tenant=cancelled, actor="test")
        now = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)  # 06:00 in Tokyo, the 11th

        first, again = _Recorder(), _Recorder()
        jobs.jobs_fan_out(app=first, now=now)
        jobs.jobs_fan_out(app=again, now=now + timedelta(seconds=30))

        daily = [schema for name, schema in first.sent if name == daily_job.task]
        active = set(jobs.tenants_running_jobs().values_list("schema_name", flat=True))
        assert sorted(daily) == sorted(active)
        assert len(daily) == len(set(daily))
        assert tokyo.schema_name in daily and alpha.schema_name in daily
        assert suspended.schema_name not in daily and cancelled.schema_name not in daily
        assert again.sent == []
        assert set(
            JobRun.objects.filter(job="test.daily", tenant=tokyo).values_list("slot", flat=True)
        ) == {"2026-03-11"}

        # A fan-out narrowed to some tenants and jobs sends only those.
        narrowed = _Recorder()
        jobs.jobs_fan_out(
            app=narrowed,
            now=now + timedelta(days=7),
            tenants=Tenant.objects.filter(pk__in=[tokyo.pk, suspended.pk]),
            jobs=["test.daily"],
        )
        assert narrowed.sent == [(daily_job.task, tokyo.schema_name)]

        # The next day's slot opens at 06:00 local time, not before.
        early, on_time = _Recorder(), _Recorder()
        jobs.jobs_fan_out(app=early, now=now + timedelta(hours=23, minutes=59))
        jobs.jobs_fan_out(app=on_time, now=now + timedelta(hours=24))
        assert (daily_job.task, tokyo.schema_name) not in early.sent
        assert (daily_job.task, tokyo.schema_name) in on_time.sent


# --- A real worker ---------------------------------------------------------------------------


def test_a_task_queued_in_one_tenant_reads_only_that_tenants_data(
    committed_tenant, in_own_connection, worker, mail_dir
):
    first, second = committed_tenant("jobsone"), committed_tenant("jobstwo")
    old = timedelta(hours=1)
    in_own_connection(partial(_store_mail, first, "For the first", age=old))
    in_own_connection(partial(_store_mail, second, "For the second", age=old))
    running = worker()

    def queue_sweep_in_first():
        with tenant_context(first):
            emails_sweep.apply_async()

    in_own_connection(queue_sweep_in_first)
    _wait_for(lambda: len(_sent(mail_dir)) >= 1, running)
    running.wait_for_log("emails_sweep")

    sent = _sent(mail_dir)
    assert len(sent) == 1
    assert "For the first" in sent[0] and "For the second" not in sent[0]


def test_the_fan_out_through_a_worker_runs_every_job_once_in_every_active_tenant(
    committed_tenant, in_own_connection, worker
):
    active = committed_tenant("jobsactive")
    dormant = committed_tenant("jobsdormant")
    in_own_connection(partial(tenant_suspend, tenant=dormant, reason="Unpaid", actor="test"))
    running = worker(concurrency=2)
    now = datetime.now(UTC)

    def fan_out_twice():
        return jobs.jobs_fan_out(app=celery_app, now=now), jobs.jobs_fan_out(
            app=celery_app, now=now
        )

    first, second = in_own_connection(fan_out_twice)
    expected = len(jobs.jobs_registered()) * jobs.tenants_running_jobs().count()

    assert (first, second) == (expected, 0)

    def finished():
        return in_own_connection(
            lambda: JobRun.objects.filter(queued=now, status=JobRun.Status.SUCCEEDED).count()
        )

    _wait_for(lambda: finished() == expected, running)
    runs = in_own_connection(
        lambda: list(JobRun.objects.filter(queued=now).values("tenant_id", "job"))
    )
    assert {run["tenant_id"] for run in runs} >= {active.pk}
    assert dormant.pk not in {run["tenant_id"] for run in runs}


def test_a_worker_process_killed_mid_task_is_replaced_and_the_mail_goes_once(
    committed_tenant, in_own_connection, worker, mail_dir
):
    tenant = committed_tenant("jobskill")
    email_id = in_own_connection(_store_mail, tenant, "Sent once")
    running = worker(TEST_MAIL_DELAY="3")

    def queue():
        with tenant_context(tenant):
            email_send.apply_async(args=[email_id])

    in_own_connection(queue)
    _wait_for(lambda: any(mail_dir.glob("started-*")), running)
    killed = running.kill_pool_process()

    _wait_for(lambda: len(_sent(mail_dir)) == 1, running)
    assert "Sent once" in _sent(mail_dir)[0]
    assert "WorkerLostError" in running.output() or f"pid:{killed}" in running.output()

    def state():
        with tenant_context(tenant):
            return OutboundEmail.objects.values_list("status", "attempts").get(pk=email_id)

    assert in_own_connection(state) == (OutboundEmail.Status.SENT, 1)
    assert len(_sent(mail_dir)) == 1


def test_mail_is_stored_in_the_senders_transaction_and_nothing_is_sent_on_rollback(alpha):
    with override_settings(EMAIL_BACKEND=OUTBOX):
        with pytest.raises(RuntimeError), transaction.atomic():
            EmailMessage("Rolled back", "Body", to=["a@example.com"]).send()
            raise RuntimeError
        EmailMessage("Kept", "Body", to=["a@example.com"]).send()

    assert list(OutboundEmail.objects.values_list("subject", flat=True)) == ["Kept"]


# --- What the platform admin sees ---------------------------------------------------------


def test_the_platform_admin_lists_failed_and_overdue_runs(public_client, alpha, beta):
    with schema_context("public"):
        admin = user_create(
            email="ops@platform.example",
            password="ops-Password-99",
            is_staff=True,
            is_superuser=True,
        )
        now = timezone.now()
        claim = uuid.uuid4()
        JobRun.objects.create(
            job="test.failed", tenant=alpha, slot="a", claim=claim, status=JobRun.Status.FAILED,
            error="SMTPException('refused')",
        )  # fmt: skip
        JobRun.objects.create(
            job="test.lost", tenant=beta, slot="b", claim=claim, queued=now - timedelta(hours=2)
        )
        JobRun.objects.create(job="test.fine", tenant=beta, slot="c", claim=claim, queued=now)
    public_client.force_login(admin, verified=True)

    def listed(state):
        page = public_client.get(f"/admin/tenants/jobrun/?state={state}").content.decode()
        start = page.index('id="result_list"')
        return page[start : page.index("</table>", start)]

    failed, overdue = listed("failed"), listed("overdue")

    assert "test.failed" in failed and "test.lost" not in failed and "test.fine" not in failed
    assert "test.lost" in overdue and "test.failed" not in overdue and "test.fine" not in overdue


# --- Every periodic job, run twice ---------------------------------------------------------


def _state(tenant) -> dict:
    """Every row of the tenant's schema and its usage snapshots, as comparable values."""
    state = {"mail": len(mail.outbox)}
    with tenant_context(tenant):
        for model in apps.get_models():
            if model._meta.app_label in TENANT_ONLY_APPS:
                state[model._meta.label] = sorted(map(repr, model.objects.values()))
    state["snapshots"] = list(
        UsageSnapshot.objects.filter(tenant=tenant).values(
            "day", "users", "assets", "requests_this_month"
        )
    )
    return state


TENANT_ONLY_APPS = {"accounts", "attachments", "assets", "requests_app", "preventive", "webhooks"}


def test_every_periodic_job_run_twice_changes_nothing_more(
    make_tenant, make_people, django_capture_on_commit_callbacks
):
    celery_app.loader.import_default_modules()
    tenant = make_tenant("twice", plan="premium", status=Tenant.Status.ACTIVE)
    now = timezone.now()
    with tenant_context(tenant):
        people = make_people(
            tenant,
            manager=BuiltinRole.MANAGER,
            tech=BuiltinRole.TECHNICIAN,
            ann=BuiltinRole.REQUESTER,
        )
        boiler = asset_create(name="Boiler", asset_tag="B-1")
        schedule_create(
            asset=boiler,
            title="Daily look",
            recurrence="days",
            starts_on=(now - timedelta(days=3)).date(),
        )
        done = request_create(title="Fixed long ago", requester=people["ann"])
        request_transition(request=done, to_status="triaged", by=people["manager"])
        request_transition(
            request=done, to_status="assigned", by=people["manager"], assignee=people["tech"]
        )
        request_transition(request=done, to_status="in_progress", by=people["tech"])
        request_transition(
            request=done, to_status="resolved", by=people["tech"], now=now - timedelta(days=30)
        )
        late = request_create(title="Late", requester=people["ann"])
        MaintenanceRequest.objects.filter(pk=late.pk).update(due_at=now - timedelta(hours=2))

    def run(job):
        with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant):
            result = celery_app.tasks[job.task].apply()
        assert result.successful(), (job.name, result.result)

    before = _state(tenant)
    for job in jobs.jobs_registered():
        run(job)
        once = _state(tenant)
        run(job)
        assert _state(tenant) == once, f"{job.name} run twice changed more"

    after = _state(tenant)
    assert after != before  # the jobs had work to do
    with tenant_context(tenant):
        assert MaintenanceRequest.objects.get(pk=done.pk).status == "closed"
        assert MaintenanceRequest.objects.filter(title__startswith="Daily look").count() == 4
    assert after["mail"] > before["mail"]  # the breach was told
    assert len(after["snapshots"]) == 1


# --- The broker down ---------------------------------------------------------------------


@contextmanager
def broker_down():
    """Point the app at a Redis that is not there (nothing listens on port 1), then back."""
    url = celery_app.conf.broker_url

    def reconnect(to):
        # Forget the pooled connections (kombu keeps one pool per broker URL).
        celery_app.conf.broker_url = to
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    reconnect("redis://127.0.0.1:1/0")
    try:
        yield
    finally:
        reconnect(url)


def test_with_the_broker_down_a_web_request_succeeds_and_its_mail_goes_when_it_is_back(
    committed_tenant, in_own_connection, worker, mail_dir, caplog
):
    tenant = committed_tenant("jobsbroker")

    def setup():
        with tenant_context(tenant):
            roles = roles_provision_defaults()
            manager = user_create(
                email="manager@jobsbroker.example",
                password=None,
                roles=[roles[BuiltinRole.MANAGER]],
            )
            ann = user_create(
                email="ann@jobsbroker.example", password=None, roles=[roles[BuiltinRole.REQUESTER]]
            )
            return manager, request_create(title="Dripping tap", requester=ann).pk

    manager, request_id = in_own_connection(setup)

    def comment():
        client = TenantClient(tenant)
        client.force_login(manager)
        return client.post(f"/requests/{request_id}/comment/", {"body": "On my way."})

    def outbox():
        with tenant_context(tenant):
            return list(OutboundEmail.objects.values_list("to", "status"))

    with broker_down(), override_settings(EMAIL_BACKEND=OUTBOX):
        response = in_own_connection(comment)

    assert response.status_code == 302
    assert "E-mail not queued, the task queue is unreachable" in caplog.text
    assert in_own_connection(outbox) == [(["ann@jobsbroker.example"], "pending")]

    # The broker is back: the periodic sweep sends what waited.
    def age_and_sweep():
        with tenant_context(tenant):
            OutboundEmail.objects.update(created=timezone.now() - timedelta(hours=1))
            emails_sweep.apply_async()

    running = worker()
    in_own_connection(age_and_sweep)
    _wait_for(lambda: len(_sent(mail_dir)) == 1, running)
    assert "On my way." in _sent(mail_dir)[0]
    assert in_own_connection(outbox) == [(["ann@jobsbroker.example"], "sent")]


def test_the_platform_admin_charts_a_tenants_daily_usage(public_client, make_tenant):
    with schema_context("public"):
        tenant = make_tenant("charted")
        admin = user_create(
            email="ops@platform.example",
            password="ops-Password-99",
            is_staff=True,
            is_superuser=True,
        )
        for day, users in ((date(2026, 11, 29), 2), (date(2026, 11, 30), 5)):
            UsageSnapshot.objects.create(
                tenant=tenant, day=day, users=users, assets=1, requests_this_month=0,
                storage_bytes=0, plan="free",
            )  # fmt: skip
    public_client.force_login(admin, verified=True)

    page = public_client.get(f"/admin/tenants/tenant/{tenant.pk}/change/").content.decode()

    assert 'aria-label="Usage from 2026-11-29 to 2026-11-30, up to 5"' in page
    assert page.count("<polyline") == 3


def test_old_succeeded_runs_are_pruned_and_failures_kept(alpha):
    with schema_context("public"):
        now = timezone.now()
        claim = uuid.uuid4()
        old = now - timedelta(days=8)
        JobRun.objects.create(
            job="old.ok", tenant=alpha, slot="1", claim=claim, queued=old,
            status=JobRun.Status.SUCCEEDED,
        )  # fmt: skip
        JobRun.objects.create(
            job="old.failed", tenant=alpha, slot="2", claim=claim, queued=old,
            status=JobRun.Status.FAILED,
        )  # fmt: skip
        JobRun.objects.create(
            job="new.ok", tenant=alpha, slot="3", claim=claim, queued=now,
            status=JobRun.Status.SUCCEEDED,
        )  # fmt: skip

        assert jobs.job_runs_prune(now=now) == 1
        assert set(JobRun.objects.filter(claim=claim).values_list("job", flat=True)) == {
            "old.failed",
            "new.ok",
        }
