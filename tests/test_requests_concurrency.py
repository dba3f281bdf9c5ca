"""
Request numbers under concurrency: 20 parallel creations, some of which roll
back, leave numbers 1..N with no gap and no duplicate. The work runs in
threads with their own connections and real commits, on a tenant made (and
deleted) outside the test's transaction, with no request limit so that the
plan limit's advisory lock does not serialise the creations for us.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_context, tenant_context

from requests_app.models import MaintenanceRequest
from requests_app.services import request_create
from tenants.models import DeletedTenant, Tenant
from tenants.services import tenant_create, tenant_delete, tenant_update

pytestmark = pytest.mark.django_db

PARALLEL = 20


class Abandoned(Exception):
    pass


def in_own_connection(function, *args):
    """Run ``function`` in a new thread, so it has its own, autocommitting connection."""

    def target():
        try:
            return function(*args)
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(target).result()


def make_committed_tenant(subdomain):
    tenant = tenant_create(name=subdomain.title(), subdomain=subdomain, status=Tenant.Status.ACTIVE)
    tenant_update(tenant=tenant, actor="test", max_requests_per_month=None)
    return tenant


def delete_committed_tenant(tenant):
    tenant_delete(tenant=tenant, actor="test")
    with schema_context("public"):
        DeletedTenant.objects.filter(schema_name=tenant.schema_name).delete()


@pytest.mark.parametrize("abandon_every", [0, 4], ids=["all-commit", "some-roll-back"])
def test_parallel_creations_get_unique_gap_free_numbers(abandon_every):
    tenant = in_own_connection(make_committed_tenant, f"numbers-{abandon_every}")
    try:
        start = threading.Barrier(PARALLEL)

        def attempt(n):
            try:
                with tenant_context(tenant):
                    start.wait()
                    with transaction.atomic():
                        request = request_create(title=f"Request {n}")
                        if abandon_every and n % abandon_every == 0:
                            # Fails after taking a number, as a caller's later step might.
                            raise Abandoned
                    return request.number
            except Abandoned:
                return None
            finally:
                connection.close()

        with ThreadPoolExecutor(PARALLEL) as pool:
            outcomes = list(pool.map(attempt, range(PARALLEL)))

        def stored():
            with tenant_context(tenant):
                return sorted(MaintenanceRequest.objects.values_list("number", flat=True))

        committed = sorted(number for number in outcomes if number is not None)
        expected_count = PARALLEL - (len(range(0, PARALLEL, abandon_every)) if abandon_every else 0)
        assert committed == list(range(1, expected_count + 1))
        assert in_own_connection(stored) == committed

        def one_more():
            with tenant_context(tenant):
                return request_create(title="Afterwards").reference

        assert in_own_connection(one_more) == f"REQ-{expected_count + 1:06d}"
    finally:
        in_own_connection(delete_committed_tenant, tenant)
