"""
What the REST API's request list costs next to a plain Django view.

Measures requests per second of ``GET /api/v1/requests/?page_size=50`` with
an API key, as a manager (who sees every request), against a baseline: a
plain view returning ``JsonResponse`` of the same 50 rows read with
``.values()`` over the same joins (requester, assignee, asset, location and
the three detail tables). Both go through the same test Client, host
routing and middleware, in the same run, interleaved round by round; the
figure is the median of the rounds. Prints both rates and the ratio
(target: the API at least 0.8 of the baseline, issue 14); the exit status
is 1 when it is missed.

The API does more than the baseline by design, and the figure includes it:
the client address's lockout check, the key lookup, the plan gate and the
permission check, the throttle's cache round trip, the page's COUNT, the
filter and ordering machinery and DRF's rendering. The tenant's rate limit
is raised for the bench so that every call is served rather than refused
(the throttle still runs).

The bench uses the database of DATABASE_URL (give it one of its own, see
bench/README.md). The first run creates tenant ``api-bench`` with a manager,
20 requesters, 10 technicians, 200 assets in 20 locations and 10,000
requests, each with an asset, an assignee and, for the electrical, plumbing
and HVAC ones, their details row; the rows are written with ``INSERT ...
SELECT generate_series`` (the services are bypassed on purpose: bench data)
and kept for the next runs. ``--regenerate`` rebuilds them.

    .venv/bin/python bench/api.py [--rounds 9] [--requests 40] [--regenerate]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartmaintenance.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context  # noqa: E402

from accounts.models import APIKey, User  # noqa: E402
from accounts.roles import BuiltinRole  # noqa: E402
from assets.models import Asset, Location  # noqa: E402
from requests_app.api.serializers import DETAIL_FIELDS as API_DETAIL_FIELDS  # noqa: E402
from requests_app.api.serializers import RequestSerializer  # noqa: E402
from requests_app.models import (  # noqa: E402
    ElectricalDetails,
    HvacDetails,
    MaintenanceRequest,
    PlumbingDetails,
    RequestCounter,
)
from tenants.models import Tenant  # noqa: E402

SUBDOMAIN = "api-bench"
COUNT = 10_000
ASSETS = 200
LOCATIONS = 20
REQUESTERS = 20
TECHNICIANS = 10
MANAGER = "manager@api.bench"
ADMIN = "admin@api.bench"  # only admins make keys; the key acts as the manager
PAGE = 50
TARGET = 0.8
API_URL = f"/api/v1/requests/?page_size={PAGE}"
BASELINE_URL = "/bench/baseline/"
PREFETCH_URL = "/bench/baseline-prefetch/"

# The baseline's columns: the same facts the API's representation carries,
# read from the API's own lists so the two cannot drift apart.
BASELINE_FIELDS = [
    *RequestSerializer.Meta.columns,
    *(
        f"{relation}__{name}"
        for relation, serializer in API_DETAIL_FIELDS.values()
        for name in serializer.Meta.fields
    ),
]


def baseline(request):
    """The same page of rows, as plainly as Django can serve it: one query, seven joins."""
    rows = MaintenanceRequest.objects.order_by("-created", "-pk").values(*BASELINE_FIELDS)[:PAGE]
    return JsonResponse({"results": list(rows)})


DETAIL_TABLES = {
    "electrical": ElectricalDetails,
    "plumbing": PlumbingDetails,
    "hvac": HvacDetails,
}


def baseline_prefetch(request):
    """
    The same rows read the way the API reads them: the people, asset and
    location joined, each details table in a query of its own. The seven-join
    query of ``baseline`` spends most of its time in PostgreSQL's planner, so
    this is the stronger baseline, and the one the target is checked against.
    """
    rows = list(
        MaintenanceRequest.objects.order_by("-created", "-pk").values(
            *(field for field in BASELINE_FIELDS if field.split("__")[0] not in DETAIL_TABLES)
        )[:PAGE]
    )
    ids = [row["id"] for row in rows]
    for relation, model in DETAIL_TABLES.items():
        fields = [f"{relation}__{name}" for name in DETAIL_FIELDS[relation]]
        found = {
            values.pop("request_id"): values
            for values in model.objects.filter(request_id__in=ids).values(
                "request_id", *DETAIL_FIELDS[relation]
            )
        }
        for row in rows:
            values = found.get(row["id"], {})
            row.update({field: values.get(field.split("__")[1]) for field in fields})
    return JsonResponse({"results": rows})


DETAIL_FIELDS = {
    relation: [field.split("__")[1] for field in BASELINE_FIELDS if field.startswith(relation)]
    for relation in DETAIL_TABLES
}

# The bench's URLconf: the tenant's own, plus the baselines (ROOT_URLCONF, set in main()).
urlpatterns = [
    path("bench/baseline/", baseline),
    path("bench/baseline-prefetch/", baseline_prefetch),
    path("", include("smartmaintenance.urls_tenant")),
]


def bench_tenant():
    from accounts.services import roles_provision_defaults, user_create
    from billing.services import tenant_create
    from tenants.provisioning import template_ensure
    from tenants.services import tenant_update

    tenant = Tenant.objects.filter(subdomain=SUBDOMAIN).first()
    if tenant is None:
        template_ensure()  # about 35 s, once, if `manage.py tenant_template` never ran
        tenant = tenant_create(
            name="API bench", subdomain=SUBDOMAIN, status="active", plan="premium"
        )
    with schema_context(get_public_schema_name()):
        # Served, not refused: the throttle still runs on every call.
        tenant = tenant_update(
            tenant=tenant,
            actor="bench",
            settings={**(tenant.settings or {}), "api_requests_per_minute": 10**9},
            max_users=None,
        )
    with tenant_context(tenant):
        if not User.objects.filter(email=MANAGER).exists():
            roles = roles_provision_defaults()
            user_create(email=MANAGER, password=None, roles=[roles[BuiltinRole.MANAGER]])
            for index in range(REQUESTERS):
                user_create(
                    email=f"requester{index}@api.bench",
                    password=None,
                    full_name=f"Requester {index}",
                    roles=[roles[BuiltinRole.REQUESTER]],
                )
            for index in range(TECHNICIANS):
                user_create(
                    email=f"technician{index}@api.bench",
                    password=None,
                    full_name=f"Technician {index}",
                    roles=[roles[BuiltinRole.TECHNICIAN]],
                )
        if not User.objects.filter(email=ADMIN).exists():
            roles = roles_provision_defaults()
            user_create(email=ADMIN, password=None, roles=[roles[BuiltinRole.ADMIN]])
        if Asset.objects.count() != ASSETS:
            MaintenanceRequest.objects.all().delete()
            Asset.objects.all().delete()
            Location.objects.all().delete()
            from assets.services import location_create

            locations = [
                location_create(name=f"Building {index:02d}", kind="site")
                for index in range(LOCATIONS)
            ]
            Asset.objects.bulk_create(
                Asset(
                    name=f"Asset {index:03d}",
                    asset_tag=f"AB-{index:03d}",
                    location=locations[index % LOCATIONS],
                )
                for index in range(ASSETS)
            )
    return tenant


def fill(tenant, force=False):
    """Make COUNT generated requests, with details, the tenant's only ones (kept if so)."""
    with tenant_context(tenant):
        # Numbers 1..COUNT are taken: a request filed later gets the next one.
        RequestCounter.objects.update_or_create(pk=1, defaults={"last_number": COUNT})
        if not force and MaintenanceRequest.objects.count() == COUNT:
            return False
        requester_ids = list(
            User.objects.filter(email__startswith="requester")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        technician_ids = list(
            User.objects.filter(email__startswith="technician")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        assets = list(Asset.objects.order_by("pk").values_list("pk", "location_id"))
        table = MaintenanceRequest._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table} CASCADE")
            cursor.execute(
                f"""
                INSERT INTO {table} (
                    number, title, description, type, priority, status, requester_id,
                    reporter_name, reporter_contact, assignee_id, asset_id, location_id,
                    due_at, created, updated, triaged_at, assigned_at
                )
                SELECT i, 'Bench request ' || i, 'Something is wrong with asset ' || a, t,
                    (ARRAY['low', 'medium', 'high', 'urgent'])[1 + (i / 4) %% 4],
                    'assigned', r, '', '', tech, a, (%(locations)s::int[])[1 + (i * 31) %% %(n)s],
                    c + interval '3 days', c, c, c + interval '1 hour', c + interval '2 hours'
                FROM (
                    SELECT i,
                        now() - i * interval '10 minutes' AS c,
                        (ARRAY['electrical', 'plumbing', 'hvac', 'general'])[1 + i %% 4] AS t,
                        (%(requesters)s::int[])[1 + i %% %(n_requesters)s] AS r,
                        (%(technicians)s::int[])[1 + i %% %(n_technicians)s] AS tech,
                        (%(assets)s::int[])[1 + (i * 31) %% %(n)s] AS a
                    FROM generate_series(1, %(count)s) AS i
                ) AS generated
                """,  # noqa: S608 (our table name)
                {
                    "requesters": requester_ids,
                    "n_requesters": len(requester_ids),
                    "technicians": technician_ids,
                    "n_technicians": len(technician_ids),
                    "assets": [pk for pk, _location in assets],
                    "locations": [location for _pk, location in assets],
                    "n": len(assets),
                    "count": COUNT,
                },
            )
            details = {
                ElectricalDetails: (
                    "voltage, circuit, hazard_present",
                    "230, 'Panel ' || number %% 12, number %% 7 = 0",
                ),
                PlumbingDetails: (
                    "leak_severity, water_shutoff_needed, fixture",
                    "(ARRAY['none', 'drip', 'steady', 'burst'])[1 + number %% 4], "
                    "number %% 3 = 0, 'Sink'",
                ),
                HvacDetails: (
                    "system_type, reported_temperature, refrigerant_involved",
                    "'split', 18.5, false",
                ),
            }
            for model, (columns, values) in details.items():
                kind = model._meta.get_field("request").related_query_name()
                cursor.execute(
                    f"INSERT INTO {model._meta.db_table} (request_id, {columns}) "  # noqa: S608
                    f"SELECT id, {values} FROM {table} WHERE type = %s",
                    [kind],
                )
            for model in (MaintenanceRequest, ElectricalDetails, PlumbingDetails, HvacDetails):
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    return True


def api_key(tenant):
    """A fresh read-only key acting as the manager (the raw key is only known at creation)."""
    from accounts.api_keys import api_key_create

    with tenant_context(tenant):
        APIKey.objects.filter(name="bench").delete()
        manager = User.objects.get(email=MANAGER)
        admin = User.objects.get(email=ADMIN)
        _key, raw_key = api_key_create(by=admin, user=manager, name="bench")
    return raw_key


def check(client, raw_key):
    """Both answer 200 with the same 50 requests, the API's with asset, assignee and details."""
    api = client.get(API_URL, HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    plain = client.get(BASELINE_URL)
    prefetched = client.get(PREFETCH_URL)
    assert api.status_code == 200, api.content[:500]
    assert plain.status_code == 200, plain.content[:500]
    rows, plain_rows = api.json()["results"], plain.json()["results"]
    assert api.json()["count"] == COUNT
    assert [row["id"] for row in rows] == [row["id"] for row in plain_rows]
    assert plain.json() == prefetched.json()
    for row, plain_row in zip(rows, plain_rows, strict=True):
        details = {
            key.split("__")[1]: value
            for key, value in plain_row.items()
            if key.split("__")[0] in DETAIL_TABLES and value is not None
        }
        api_details = {
            key: value for key, value in (row["details"] or {}).items() if value is not None
        }
        assert {k: str(v) for k, v in api_details.items()} == {
            k: str(v) for k, v in details.items()
        }, (row, plain_row)
    assert all(row["asset"] and row["assignee"] for row in rows)
    assert sum(row["details"] is not None for row in rows) >= PAGE * 3 // 4 - 1


def rate(client, url, count, **headers):
    started = time.perf_counter()
    for _ in range(count):
        response = client.get(url, **headers)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code} {response.content[:200]!r}")
    return count / (time.perf_counter() - started)


def measure(client, raw_key, rounds, count):
    header = {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"}
    for _ in range(2):  # warm-up: caches, connections, the planner
        rate(client, API_URL, 5, **header)
        rate(client, BASELINE_URL, 5)
        rate(client, PREFETCH_URL, 5)
    calls = {
        "api": (API_URL, header),
        "baseline": (BASELINE_URL, {}),
        "prefetch": (PREFETCH_URL, {}),
    }
    samples = {name: [] for name in calls}
    for index in range(rounds):
        # Rotate who goes first, so no one always runs on a warmer machine.
        names = list(calls)
        for name in names[index % 3 :] + names[: index % 3]:
            url, headers = calls[name]
            samples[name].append(rate(client, url, count, **headers))
    return {name: statistics.median(values) for name, values in samples.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds (default 9)")
    parser.add_argument("--requests", type=int, default=40, help="calls per round (default 40)")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the requests")
    args = parser.parse_args()

    tenant = bench_tenant()
    started = time.perf_counter()
    if fill(tenant, args.regenerate):
        print(f"{COUNT:,} requests generated in {time.perf_counter() - started:.1f} s")
    raw_key = api_key(tenant)
    host = tenant.get_primary_domain().domain
    with override_settings(DEBUG=False, ROOT_URLCONF=__name__):
        client = Client(HTTP_HOST=host)
        check(client, raw_key)
        rates = measure(client, raw_key, args.rounds, args.requests)
    with tenant_context(tenant):
        APIKey.objects.filter(name="bench").delete()
    print(
        f"GET /api/v1/requests/?page_size={PAGE} over {COUNT:,} requests, median of "
        f"{args.rounds} interleaved rounds of {args.requests} calls:"
    )
    print(f"  API (key, DRF):                         {rates['api']:7.1f} requests/s")
    print(f"  baseline, .values(), 7 joins:           {rates['baseline']:7.1f} requests/s")
    print(f"  baseline, .values(), 4 joins + 3 reads: {rates['prefetch']:7.1f} requests/s")
    print(f"  ratio to the 7-join baseline:   {rates['api'] / rates['baseline']:.2f}")
    ratio = rates["api"] / max(rates["baseline"], rates["prefetch"])
    print(f"  ratio to the faster baseline:   {ratio:.2f} (target >= {TARGET})")
    connection.close()
    sys.exit(0 if ratio >= TARGET else 1)


if __name__ == "__main__":
    main()
