"""
The cached host → tenant lookup (tenants/routing.py) and the search_path kept
across requests (tenants/postgresql_backend).

A change takes effect at once in the process that makes it, and within
TENANT_ROUTING_CACHE_SECONDS in every other one: the last tests start a second
worker process and commit changes it has to notice, without a restart, also
when made with QuerySet.update() (no signal). While nothing changes, a host is
not looked up again when the bound has passed (one read of the routing
counter per bound serves every host).
"""

import json
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from accounts.models import User
from accounts.services import user_create
from billing.plans import PlanCode
from billing.services import tenant_change_plan, tenant_create
from tenants import routing
from tenants.models import Domain, Tenant, TenantAuditEntry
from tenants.provisioning import schema_drop
from tenants.services import tenant_reactivate, tenant_suspend

# The cache as it runs in production (tests elsewhere turn it off: conftest.py).
pytestmark = pytest.mark.routing_cache


@pytest.fixture(autouse=True)
def _empty_routing_cache():
    routing.clear()
    yield
    routing.clear()


def get(host, path="/accounts/login/"):
    return Client().get(path, HTTP_HOST=host)


def routing_queries(queries):
    return [
        query["sql"]
        for query in queries.captured_queries
        if "tenants_domain" in query["sql"] or "tenants_tenant" in query["sql"]
    ]


def search_path_sets(queries):
    return [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith("SET search_path")
    ]


# --- In this process -------------------------------------------------------------


@pytest.mark.django_db
def test_a_cached_host_is_routed_without_a_query(alpha):
    get("alpha.localhost")

    with CaptureQueriesContext(connection) as queries:
        response = get("ALPHA.localhost:8000")

    assert response.status_code == 200
    assert "Log in to Alpha Works" in response.content.decode()
    assert routing_queries(queries) == []


@pytest.mark.django_db
def test_each_request_gets_its_own_copy_of_the_cached_tenant(alpha):
    first = get("alpha.localhost").wsgi_request.tenant
    first.name = "Changed by one request"
    first.settings["changed"] = True

    second = get("alpha.localhost").wsgi_request.tenant

    assert second is not first
    assert second.name == "Alpha Works"
    assert "changed" not in second.settings


@pytest.mark.django_db
def test_suspending_a_cached_tenant_takes_effect_at_once(alpha):
    assert get("alpha.localhost").status_code == 200

    tenant_suspend(tenant=Tenant.objects.get(pk=alpha.pk), reason="Unpaid invoices")
    response = get("alpha.localhost")

    assert response.status_code == 403
    assert "suspended" in response.content.decode()


@pytest.mark.django_db
def test_a_plan_change_reaches_the_cached_tenant_at_once(alpha):
    assert get("alpha.localhost").wsgi_request.tenant.plan != PlanCode.ENTERPRISE

    tenant_change_plan(tenant=Tenant.objects.get(pk=alpha.pk), plan=PlanCode.ENTERPRISE)

    assert get("alpha.localhost").wsgi_request.tenant.plan == PlanCode.ENTERPRISE


@pytest.mark.django_db
def test_a_domain_change_takes_effect_at_once(alpha):
    assert get("alpha.localhost").status_code == 200
    assert get("alpha-renamed.localhost").status_code == 404  # cached as unknown

    domain = Domain.objects.get(domain="alpha.localhost")
    domain.domain = "alpha-renamed.localhost"
    domain.save()

    assert get("alpha.localhost").status_code == 404
    response = get("alpha-renamed.localhost")
    assert response.status_code == 200
    assert "Log in to Alpha Works" in response.content.decode()


@pytest.mark.django_db
def test_a_deleted_domain_stops_routing_at_once(alpha):
    assert get("alpha.localhost").status_code == 200

    Domain.objects.filter(domain="alpha.localhost").delete()

    assert get("alpha.localhost").status_code == 404


@pytest.mark.django_db
def test_lookups_made_inside_an_uncommitted_change_are_not_cached(make_tenant):
    make_tenant("gamma")

    assert get("gamma.localhost").status_code == 200
    assert "gamma.localhost" not in routing._entries


@pytest.mark.django_db
def test_a_lookup_made_inside_a_transaction_is_kept_one_bound_only(alpha):
    # The test's transaction stands for any transaction: what it reads may be
    # a row it changed with update() and will roll back.
    get("alpha.localhost")

    expiry = routing._entries["alpha.localhost"][0]

    assert expiry <= time.monotonic() + settings.TENANT_ROUTING_CACHE_SECONDS


@pytest.mark.django_db
def test_the_counter_is_read_once_a_bound_for_every_host(alpha, settings):
    settings.TENANT_ROUTING_CACHE_SECONDS = 0.5
    get("alpha.localhost")
    get("beta.localhost")

    with CaptureQueriesContext(connection) as queries:
        get("alpha.localhost")
        get("beta.localhost")
        time.sleep(0.6)
        get("alpha.localhost")
        get("beta.localhost")

    reads = [q["sql"] for q in queries.captured_queries if routing.VERSION_SEQUENCE in q["sql"]]
    assert len(reads) == 1


def test_unknown_hosts_are_evicted_before_tenants(monkeypatch):
    monkeypatch.setattr(routing, "MAX_ENTRIES", 3)
    tenant = Tenant(schema_name="t_x", name="X")
    routing._store("x.localhost", tenant, routing._generation, time.monotonic(), 3)
    routing._store("nobody-1.localhost", None, routing._generation, time.monotonic(), 3)
    routing._store("nobody-2.localhost", None, routing._generation, time.monotonic(), 3)

    routing._store("nobody-3.localhost", None, routing._generation, time.monotonic(), 3)

    assert set(routing._entries) == {"x.localhost", "nobody-3.localhost"}


def test_the_counter_moves_when_a_change_commits_however_it_is_made(
    django_db_setup, django_db_blocker
):
    # Committed, so outside the test's transaction: changes that change nothing.
    with django_db_blocker.unblock(), schema_context(get_public_schema_name()):
        alpha = Tenant.objects.get(subdomain="alpha")
        before = routing.routing_version()
        with transaction.atomic():
            Tenant.objects.filter(pk=alpha.pk).update(name=alpha.name)  # no signal
            assert routing.routing_version() == before  # not before the commit
        after_update = routing.routing_version()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE tenants_domain SET domain = domain WHERE tenant_id = %s", [alpha.pk]
            )
        after_sql = routing.routing_version()

    assert before < after_update < after_sql


def test_the_bound_is_at_most_five_seconds():
    assert 0 < settings.TENANT_ROUTING_CACHE_SECONDS <= routing.MAX_SECONDS == 5


def test_a_bound_over_five_seconds_is_refused(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.TENANT_ROUTING_CACHE_SECONDS = 6
    with pytest.raises(ImproperlyConfigured):
        routing.cache_seconds()


# --- SET search_path ------------------------------------------------------------


@pytest.mark.django_db
def test_a_second_request_to_the_same_tenant_sends_no_set_search_path(alpha, alpha_client):
    alpha_client.force_login(user_create(email="ann@example.com", password="x-Secret-123"))
    alpha_client.get("/")

    with CaptureQueriesContext(connection) as queries:
        response = alpha_client.get("/")

    assert response.status_code == 200
    assert response.wsgi_request.user.email == "ann@example.com"  # read from alpha's schema
    assert any("django_session" in query["sql"] for query in queries.captured_queries)
    assert search_path_sets(queries) == []


@pytest.mark.django_db
def test_switching_tenants_sends_set_search_path(alpha):
    beta = Tenant.objects.get(subdomain="beta")
    User.objects.exists()

    with CaptureQueriesContext(connection) as queries:
        with tenant_context(beta):
            User.objects.exists()
            User.objects.exists()
        User.objects.exists()

    assert search_path_sets(queries) == [
        f'SET search_path = "{beta.schema_name}","public"',
        f'SET search_path = "{alpha.schema_name}","public"',
    ]


@pytest.mark.django_db
def test_after_a_rollback_set_search_path_is_sent_again(alpha):
    beta = Tenant.objects.get(subdomain="beta")
    with tenant_context(beta):
        user_create(email="only-in-beta@example.com", password="x-Secret-123")
    User.objects.exists()  # the session is on alpha's schema
    savepoint = transaction.savepoint()

    with tenant_context(beta):
        User.objects.exists()  # SET to beta's schema, after the savepoint...
        transaction.savepoint_rollback(savepoint)  # ...so the session is on alpha's again
        with CaptureQueriesContext(connection) as queries:
            in_beta = User.objects.filter(email="only-in-beta@example.com").exists()

    assert search_path_sets(queries) == [f'SET search_path = "{beta.schema_name}","public"']
    assert in_beta


# --- In another process -----------------------------------------------------------

# A second worker: serves GET /accounts/login/ for each host read on stdin and
# answers with the status, how many routing queries that took, and its pid.
WORKER = """
import json, os, sys
from smartmaintenance import settings

settings.DATABASES["default"]["NAME"] = os.environ["ROUTING_TEST_DATABASE"]
import django

django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

client = Client()
for line in sys.stdin:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/accounts/login/", HTTP_HOST=line.strip())
    lookups = [q for q in queries.captured_queries if "tenants_domain" in q["sql"]]
    answer = {"status": response.status_code, "lookups": len(lookups), "pid": os.getpid()}
    print(json.dumps(answer), flush=True)
"""


class Worker:
    def __init__(self, database):
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER],
            cwd=settings.BASE_DIR,
            env={**os.environ, "ROUTING_TEST_DATABASE": database},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.pids = set()

    def get(self, host):
        self.process.stdin.write(host + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker exited with {self.process.wait()}")
        answer = json.loads(line)
        self.pids.add(answer["pid"])
        return answer

    def get_from_cache(self, host):
        """Request ``host`` until the worker answers from its cache; return the status."""
        for _attempt in range(5):
            answer = self.get(host)
            if answer["lookups"] == 0:
                return answer["status"]
        raise AssertionError(f"the worker never served {host} from its cache")

    def poll(self, expected, deadline):
        """Request each host until all answer as ``expected``, or the deadline passes."""
        while True:
            statuses = {host: self.get(host)["status"] for host in expected}
            if statuses == expected or time.monotonic() > deadline:
                return statuses
            time.sleep(0.05)

    def stop(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def worker(django_db_setup):
    worker = Worker(connection.settings_dict["NAME"])
    yield worker
    worker.stop()


@pytest.fixture
def committed_tenant(django_db_setup, django_db_blocker):
    """
    A tenant committed to the test database, as the worker cannot see the
    rows of a test's transaction; deleted again, schema and all, afterwards.
    """
    tenants = []

    def make(subdomain):
        with django_db_blocker.unblock():
            tenant = tenant_create(name=subdomain.title(), subdomain=subdomain, status="active")
        tenants.append(tenant)
        return tenant

    yield make
    with django_db_blocker.unblock(), schema_context(get_public_schema_name()):
        for tenant in tenants:
            TenantAuditEntry.objects.filter(tenant=tenant).delete()
            Tenant.objects.filter(pk=tenant.pk).delete()
            schema_drop(tenant.schema_name)


def test_a_suspension_reaches_another_worker_within_the_bound(
    worker, committed_tenant, django_db_blocker
):
    bound = settings.TENANT_ROUTING_CACHE_SECONDS
    assert 0 < bound <= 5
    tenant = committed_tenant("worker-suspend")
    host = "worker-suspend.localhost"
    assert worker.get_from_cache(host) == 200

    with django_db_blocker.unblock():
        tenant_suspend(tenant=tenant, reason="Unpaid invoices")
        changed = time.monotonic()
        assert get(host).status_code == 403  # here, at once
        connection.set_schema_to_public()

    assert worker.poll({host: 403}, deadline=changed + bound + 2) == {host: 403}
    assert len(worker.pids) == 1 and worker.process.poll() is None  # no restart needed

    with django_db_blocker.unblock():
        tenant_reactivate(tenant=tenant)
        changed = time.monotonic()
    assert worker.poll({host: 200}, deadline=changed + bound + 2) == {host: 200}


def test_a_domain_change_reaches_another_worker_within_the_bound(
    worker, committed_tenant, django_db_blocker
):
    bound = settings.TENANT_ROUTING_CACHE_SECONDS
    old, new = "worker-domain.localhost", "worker-moved.localhost"
    tenant = committed_tenant("worker-domain")
    assert worker.get_from_cache(old) == 200
    assert worker.get_from_cache(new) == 404  # unknown hosts are cached too

    with django_db_blocker.unblock():
        domain = tenant.get_primary_domain()
        domain.domain = new
        domain.save()
        changed = time.monotonic()
        assert (get(old).status_code, get(new).status_code) == (404, 200)  # here, at once
        connection.set_schema_to_public()

    expected = {old: 404, new: 200}
    assert worker.poll(expected, deadline=changed + bound + 2) == expected
    assert len(worker.pids) == 1 and worker.process.poll() is None  # no restart needed


def test_a_host_stays_cached_in_another_worker_past_the_bound(worker, committed_tenant):
    bound = settings.TENANT_ROUTING_CACHE_SECONDS
    committed_tenant("worker-steady")
    host = "worker-steady.localhost"
    assert worker.get_from_cache(host) == 200
    # Looked up while the worker had just seen the counter move (the new
    # tenant), or before it noticed the move: kept one bound only. So wait
    # until it has noticed, and then until it has looked the host up again...
    for _settling in range(2):
        time.sleep(bound + 0.5)
        worker.get(host)

    time.sleep(bound + 0.5)

    # ...and then kept past the bound, as nothing changed.
    answer = worker.get(host)
    assert (answer["status"], answer["lookups"]) == (200, 0)


def test_a_change_made_with_update_reaches_another_worker_within_the_bound(
    worker, committed_tenant, django_db_blocker
):
    bound = settings.TENANT_ROUTING_CACHE_SECONDS
    tenant = committed_tenant("worker-update")
    host = "worker-update.localhost"
    assert worker.get_from_cache(host) == 200

    with django_db_blocker.unblock(), schema_context(get_public_schema_name()):
        Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.SUSPENDED)  # no signal
        changed = time.monotonic()

    assert worker.poll({host: 403}, deadline=changed + bound + 2) == {host: 403}

    with django_db_blocker.unblock(), schema_context(get_public_schema_name()):
        Domain.objects.filter(tenant=tenant).update(domain="worker-elsewhere.localhost")
        changed = time.monotonic()

    expected = {host: 404, "worker-elsewhere.localhost": 403}
    assert worker.poll(expected, deadline=changed + bound + 2) == expected
    assert len(worker.pids) == 1 and worker.process.poll() is None
