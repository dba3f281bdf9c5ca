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
from django_tenants.utils import tenant_context

from requests_app.models import MaintenanceRequest
from requests_app.services import request_create

pytestmark = pytest.mark.django_db

PARALLEL = 20


class Abandoned(Exception):
    pass


@pytest.mark.parametrize("abandon_every", [0, 4], ids=["all-commit", "some-roll-back"])
def test_parallel_creations_get_unique_gap_free_numbers(
    abandon_every, committed_tenant, in_own_connection
):
    # Premium: no monthly request limit.
    tenant = committed_tenant(f"numbers-{abandon_every}", plan="premium")
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
