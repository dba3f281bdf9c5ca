"""
Test harness: one test database, built once per session, holding the public
schema and two tenants, ``alpha`` and ``beta``. Every test runs inside a
transaction that is rolled back, schema changes included. See tests/README.md.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context
from worker_process import test_broker_url

from accounts.services import roles_provision_defaults, user_create
from billing.services import public_tenant_ensure, tenant_create
from smartmaintenance.celery import app as celery_app
from tenants.models import DeletedTenant, Tenant
from tenants.services import tenant_delete, tenant_update

SESSION_TENANTS = {"alpha": "Alpha Works", "beta": "Beta Buildings"}


# --- The attack suite's ledger (tests/security/) -----------------------------------
# Here, not in tests/security/conftest.py: under pytest-xdist the controlling
# process collects nothing, so only this conftest is loaded there. Each test
# process counts its cases; the controller adds them up and prints the total.

ATTACK_LEDGER = pytest.StashKey[dict]()


def pytest_configure(config):
    config.stash[ATTACK_LEDGER] = {"cases": 0, "leaks": 0}


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # in an xdist worker: hand the counts over
        workeroutput["attack_ledger"] = dict(session.config.stash[ATTACK_LEDGER])


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    counted = getattr(node, "workeroutput", {}).get("attack_ledger", {})
    ledger = node.config.stash[ATTACK_LEDGER]
    for name, count in counted.items():
        ledger[name] += count


@pytest.fixture(scope="session")
def attack_ledger(request):
    """This process's counts of attack cases and leaks (tests/security/conftest.py)."""
    return request.config.stash[ATTACK_LEDGER]


def pytest_terminal_summary(terminalreporter, config):
    ledger = config.stash.get(ATTACK_LEDGER, None)
    if ledger and ledger["cases"]:
        terminalreporter.write_sep(
            "=", f"attack suite: {ledger['cases']} cases, {ledger['leaks']} leaks"
        )


class TenantClient(Client):
    """
    A test client that talks to one tenant's host, and puts the test's
    connection back on the schema it was on once each request is done (the
    routing middleware leaves it on the request's tenant, as it should in a
    server).
    """

    def __init__(self, tenant, **defaults):
        self.tenant = tenant
        super().__init__(HTTP_HOST=tenant.get_primary_domain().domain, **defaults)

    def request(self, **request):
        previous = connection.tenant
        try:
            return super().request(**request)
        finally:
            connection.set_tenant(previous)

    def login(self, **credentials):
        with tenant_context(self.tenant):
            return super().login(**credentials)

    def force_login(self, user, backend=None, verified=False):
        """
        ``verified=True``: the session has also passed a second factor (the
        user gets an authenticator app if they have none), as platform admins'
        sessions must have before the admin opens (accounts/two_factor/).
        """
        with tenant_context(self.tenant):
            super().force_login(user, backend)
            if verified:
                device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
                device = device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)
                session = self.session
                session[DEVICE_ID_SESSION_KEY] = device.persistent_id
                session.save()


@pytest.fixture(scope="session", autouse=True)
def _no_spare_schemas():
    """
    New tenants copy the template, and send no Celery task after commit to
    top up a pool of spare schemas; the tests of that pool fill their own.
    """
    settings.TENANT_SPARE_SCHEMAS = 0


@pytest.fixture(autouse=True)
def _own_media_root(tmp_path_factory):
    """
    Each test uploads into a folder of its own, empty at the start as its
    database is: files of a rolled-back test are not seen by the next, nor
    by another xdist worker (both have an ``alpha`` schema), and nothing
    lands in .data/media. django-tenants' storage forgets its folder when
    MULTITENANT_RELATIVE_MEDIA_ROOT changes, so both are set.
    """
    with override_settings(
        MEDIA_ROOT=str(tmp_path_factory.mktemp("media")), MULTITENANT_RELATIVE_MEDIA_ROOT="%s"
    ):
        yield


@pytest.fixture(autouse=True)
def _routing_looked_up_per_request(request):
    """
    Every request looks its host up (TENANT_ROUTING_CACHE_SECONDS = 0), so a
    test's query counts do not depend on the clock: with the cache on, one
    more query comes whenever its bound has passed since the last request.
    The routing cache's own tests (marked ``routing_cache``) keep the setting.
    """
    if request.node.get_closest_marker("routing_cache"):
        yield
        return
    with override_settings(TENANT_ROUTING_CACHE_SECONDS=0):
        yield


@pytest.fixture(scope="session", autouse=True)
def _test_broker():
    """
    Tasks go to a Redis database of the tests' own, emptied first: a worker
    started by a test (tests/worker_process.py) sees no development messages
    and none left over from an earlier run.
    """
    celery_app.conf.broker_url = test_broker_url(settings.CELERY_BROKER_URL)
    celery_app.control.purge()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        public_tenant_ensure()
        for subdomain, name in SESSION_TENANTS.items():
            tenant_create(name=name, subdomain=subdomain, status=Tenant.Status.ACTIVE)


def _in_tenant(subdomain):
    tenant = Tenant.objects.get(subdomain=subdomain)
    with tenant_context(tenant):
        yield tenant


@pytest.fixture
def alpha(db):
    """The ``alpha`` tenant, with the connection in its schema for the test."""
    yield from _in_tenant("alpha")


@pytest.fixture
def beta(db):
    """The ``beta`` tenant, with the connection in its schema for the test."""
    yield from _in_tenant("beta")


@pytest.fixture
def public_tenant(db):
    tenant = Tenant.objects.get(schema_name=get_public_schema_name())
    with tenant_context(tenant):
        yield tenant


@pytest.fixture
def alpha_client(alpha):
    return TenantClient(alpha)


@pytest.fixture
def beta_client(beta):
    return TenantClient(beta)


@pytest.fixture
def public_client(public_tenant):
    return TenantClient(public_tenant)


@pytest.fixture
def make_tenant(db):
    """Create a further tenant inside the test's transaction (gone when it ends)."""

    def make(subdomain, name=None, **fields):
        with schema_context(get_public_schema_name()):
            return tenant_create(name=name or subdomain.title(), subdomain=subdomain, **fields)

    return make


def _run_in_own_connection(function, *args):
    def target():
        try:
            return function(*args)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(target).result()


@pytest.fixture
def in_own_connection():
    """
    ``in_own_connection(function, *args)`` runs ``function`` in a new thread,
    so on a connection of its own, in autocommit: what it writes is committed
    and seen by other threads, unlike what the test's transaction holds.
    """
    return _run_in_own_connection


@pytest.fixture
def committed_tenant(db):
    """
    Create an active tenant outside the test's transaction, for threads with
    connections of their own to work in; it is deleted, tombstone included,
    when the test ends.
    """
    made = []

    def make(subdomain, **fields):
        def create():
            return tenant_create(
                name=subdomain.title(), subdomain=subdomain, status=Tenant.Status.ACTIVE, **fields
            )

        made.append(_run_in_own_connection(create))
        return made[-1]

    yield make
    for tenant in made:
        _run_in_own_connection(_delete_with_tombstone, tenant)


def _delete_with_tombstone(tenant):
    tenant_delete(tenant=tenant, actor="test")
    with schema_context(get_public_schema_name()):
        DeletedTenant.objects.filter(schema_name=tenant.schema_name).delete()


@pytest.fixture
def make_people(db):
    """
    ``make_people(tenant, ann=BuiltinRole.REQUESTER, ...)``: one user per name,
    ``<name>@<subdomain>.example`` with that built-in role, created in the
    current schema (the tenant's), after lifting the tenant's user limit.
    """

    def make(tenant, **role_by_name):
        tenant_update(tenant=tenant, actor="test", max_users=None)
        roles = roles_provision_defaults()
        return {
            name: user_create(
                email=f"{name}@{tenant.subdomain}.example", password=None, roles=[roles[role]]
            )
            for name, role in role_by_name.items()
        }

    return make


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and cached values never leak from one test to the next."""
    cache.clear()
    yield
    cache.clear()


# --- REST API -------------------------------------------------------------------


class APIClient(TenantClient):
    """A TenantClient that sends an API key and JSON bodies by default."""

    def __init__(self, tenant, raw_key=None, **defaults):
        if raw_key:
            defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw_key}"
        super().__init__(tenant, **defaults)

    def generic(self, method, path, data="", content_type="application/json", **extra):
        return super().generic(method, path, data, content_type, **extra)

    def post(self, path, data=None, content_type="application/json", **extra):
        return super().post(path, data, content_type=content_type, **extra)

    def patch(self, path, data=None, content_type="application/json", **extra):
        return super().patch(path, data, content_type=content_type, **extra)


@pytest.fixture
def api_for(db):
    """
    ``api_for(tenant, role="Admin", access="read_write", plan="premium")``:
    puts ``tenant`` on a plan with API access, makes a user with ``role`` and
    an API key acting as them, and returns ``(client, user, key)``. Rolled
    back with the test.
    """
    from accounts.api_keys import api_key_create
    from accounts.roles import BuiltinRole
    from accounts.services import roles_provision_defaults, user_create
    from billing.services import tenant_change_plan
    from tenants.services import tenant_update

    made = {}

    def make(tenant, role=BuiltinRole.ADMIN, access="read_write", plan="premium", email=None):
        with schema_context(get_public_schema_name()):
            if tenant.plan != plan:
                tenant_change_plan(tenant=tenant, plan=plan, actor="test")
            tenant_update(tenant=tenant, actor="test", max_users=None)
        tenant.refresh_from_db()
        with tenant_context(tenant):
            roles = roles_provision_defaults()
            count = made.setdefault(tenant.pk, 0) + 1
            made[tenant.pk] = count
            email = email or f"{str(role).lower()}{count}@{tenant.subdomain}.example"
            user = user_create(email=email, password=None, roles=[roles[BuiltinRole(role)]])
            admin = user
            if role != BuiltinRole.ADMIN:
                admin = user_create(
                    email=f"keymaker{count}@{tenant.subdomain}.example",
                    password=None,
                    roles=[roles[BuiltinRole.ADMIN]],
                )
            key, raw_key = api_key_create(by=admin, user=user, name="test", access=access)
        return APIClient(tenant, raw_key), user, key

    return make


# --- DNS ------------------------------------------------------------------------


@pytest.fixture
def resolver(monkeypatch):
    """
    ``resolver.answer(name, "203.0.113.5", ...)`` makes ``socket.getaddrinfo``
    answer ``name`` with those addresses, one per call (the last one repeats),
    as a DNS server that changes its answer would; other names go to the real
    resolver. ``resolver.calls`` lists the names asked for, in order.
    """
    import socket

    real = socket.getaddrinfo

    class Resolver:
        def __init__(self):
            self.answers, self.calls = {}, []

        def answer(self, name, *addresses):
            self.answers[name] = list(addresses)

        def getaddrinfo(self, host, port, *args, **kwargs):
            if host not in self.answers:
                return real(host, port, *args, **kwargs)
            self.calls.append(host)
            queue = self.answers[host]
            address = queue.pop(0) if len(queue) > 1 else queue[0]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    fake = Resolver()
    monkeypatch.setattr(socket, "getaddrinfo", fake.getaddrinfo)
    return fake
