"""
Schemathesis fuzzes every operation of the tenant API's OpenAPI schema, in
process, against the ``alpha`` tenant with an admin's read-write key: no
answer may be a server error, and every answer must match the schema
(status code, content type, body, headers).

Two of its checks judge the input rather than the answer, and are left out:
"positive data acceptance" expects any schema-valid input to succeed, but a
schema cannot say that ``asset=0`` names no asset (a 400 naming the field is
right); "negative data rejection" expects lenient parsing to refuse, e.g.
``page_size=null``, which DRF reads as the default page size.

The schema is the one drf-spectacular serves at /api/v1/schema/, generated
here without a request so the test collects one case per operation.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django_tenants.utils import get_public_schema_name, schema_context
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tenants.services import tenant_update

# Enough to try each field with bad and good values on every operation while
# keeping the suite fast: about 70 operations.
EXAMPLES_PER_OPERATION = 12

document = SchemaGenerator(urlconf="smartmaintenance.urls_tenant").get_schema(public=True)
schema = schemathesis.openapi.from_dict(document)
schema.app = get_wsgi_application()


@pytest.fixture
def fuzz_target(alpha, api_for):
    # As Django's test client does: a request must not close the connection
    # that holds the test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    client, _admin, _key = api_for(alpha)
    # The fuzzer must not spend its cases on 429s.
    with schema_context(get_public_schema_name()):
        tenant_update(tenant=alpha, actor="test", settings={"api_requests_per_minute": 100_000})
    yield {
        "base_url": f"http://{alpha.get_primary_domain().domain}",
        "headers": {"Authorization": client.defaults["HTTP_AUTHORIZATION"]},
        "excluded_checks": [positive_data_acceptance, negative_data_rejection],
    }
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_the_schema_documents_every_endpoint_with_errors():
    operations = [
        (path, method)
        for path, methods in document["paths"].items()
        for method in methods
        if method in {"get", "post", "patch", "put", "delete"}
    ]
    assert len(operations) > 20
    for path, method in operations:
        responses = document["paths"][path][method]["responses"]
        assert {"401", "403", "429"} <= set(responses), (path, method)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_operation(case, fuzz_target):
    case.call_and_validate(**fuzz_target)
