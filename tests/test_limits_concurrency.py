"""
Plan limits hold under concurrency: 20 parallel creations at limit - 1 leave
exactly the limit. The work runs in threads with their own connections and
real commits, on a tenant made (and deleted) outside the test's transaction.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import User
from accounts.services import user_create
from assets.models import Asset
from assets.services import asset_create
from billing.limits import PlanLimitReached
from requests_app.models import MaintenanceRequest
from requests_app.services import request_create
from tenants.services import tenant_update

pytestmark = pytest.mark.django_db

PARALLEL = 20
LIMIT = 5


CASES = {
    "users": ("max_users", User, lambda n: user_create(email=f"u{n}@race.example", password=None)),
    "assets": ("max_assets", Asset, lambda n: asset_create(name=f"Asset {n}", asset_tag=f"A-{n}")),
    "requests": (
        "max_requests_per_month",
        MaintenanceRequest,
        lambda n: request_create(title=f"Request {n}"),
    ),
}


@pytest.mark.parametrize("resource", list(CASES))
def test_parallel_creations_at_limit_minus_one_leave_exactly_the_limit(
    resource, committed_tenant, in_own_connection
):
    limit_field, model, create = CASES[resource]
    tenant = committed_tenant(f"race-{resource}")
    in_own_connection(lambda: tenant_update(tenant=tenant, actor="test", **{limit_field: LIMIT}))

    def prefill():
        with tenant_context(tenant):
            for n in range(LIMIT - 1):
                create(f"pre{n}")

    in_own_connection(prefill)
    start = threading.Barrier(PARALLEL)

    def attempt(n):
        try:
            with tenant_context(tenant):
                start.wait()
                create(n)
            return "created"
        except PlanLimitReached:
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(PARALLEL) as pool:
        outcomes = list(pool.map(attempt, range(PARALLEL)))

    def count():
        with tenant_context(tenant):
            return model.objects.count()

    assert sorted(outcomes) == ["created"] + ["refused"] * (PARALLEL - 1)
    assert in_own_connection(count) == LIMIT
