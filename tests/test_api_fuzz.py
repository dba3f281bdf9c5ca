"""
Schemathesis fuzzes the APIs' OpenAPI schemas in process: no answer may be a
server error, and every answer must match the schema (status code, content
type, body, headers).

- The tenant API, against ``alpha`` seeded with one object of every kind
  (tests/security/attack_world.py) and an admin's read-write key. Path
  parameters name the seeded objects, so operations on one object reach
  their serializers and services instead of answering 404; bodies and query
  strings are fuzzed.
- The same schema statefully: schemathesis chains operations by the links it
  infers (a created object's id fed to the operations that take one).
- The public API (``/api/signup/``, ``/api/v1/platform/``) on the main
  domain, with a platform admin's key.

Two of its checks judge the input rather than the answer, and are left out:
"positive data acceptance" expects any schema-valid input to succeed, but a
schema cannot say that ``asset=0`` names no asset (a 400 naming the field is
right); "negative data rejection" expects lenient parsing to refuse, e.g.
``page_size=null``, which DRF reads as the default page size.

The schemas are the ones drf-spectacular serves at /api/v1/schema/,
generated here without a request so the test collects one case per operation.
"""

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
)
from security.attack_world import fill, seed

from accounts.api_keys import api_key_create
from accounts.models import APIKey
from accounts.services import user_create
from tenants.services import tenant_update

# Enough to try each field with bad and good values on every operation while
# keeping the suite fast: about 70 operations.
EXAMPLES_PER_OPERATION = 12
STATEFUL_SCENARIOS = 25
EXCLUDED_CHECKS = [positive_data_acceptance, negative_data_rejection]

document = SchemaGenerator(urlconf="smartmaintenance.urls_tenant").get_schema(public=True)
schema = schemathesis.openapi.from_dict(document)
schema.app = get_wsgi_application()

public_document = SchemaGenerator(urlconf="smartmaintenance.urls_public").get_schema(public=True)
public_schema = schemathesis.openapi.from_dict(public_document)
public_schema.app = schema.app

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@pytest.fixture
def _keep_the_test_connection():
    # As Django's test client does: a request must not close the connection
    # that holds the test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_target(alpha, api_for, _keep_the_test_connection):
    client, _admin, _key = api_for(alpha)
    # The fuzzer must not spend its cases on 429s.
    with schema_context(get_public_schema_name()):
        tenant_update(tenant=alpha, actor="test", settings={"api_requests_per_minute": 100_000})
    with tenant_context(alpha):
        ids = seed(alpha)
    return {
        "ids": ids,
        "call": {
            "base_url": f"http://{alpha.get_primary_domain().domain}",
            "headers": {"Authorization": client.defaults["HTTP_AUTHORIZATION"]},
        },
    }


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


def _operations(api_schema):
    """
    One pytest parameter per operation, named by it ("GET /api/v1/assets/").
    Not schemathesis's ``parametrize``: its items share one node id, which
    pytest-xdist folds into one test, so most operations would never run.
    """
    operations = [result.ok() for result in api_schema.get_all_operations()]
    return [pytest.param(operation, id=operation.label) for operation in operations]


def _cases(operation):
    """Schema-valid and schema-invalid requests for ``operation``."""
    return st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )


@pytest.mark.parametrize("operation", _operations(schema))
def test_api_operation(operation, fuzz_target):
    @FUZZ_SETTINGS
    @given(case=_cases(operation))
    def fuzz(case):
        if case.path_parameters:
            # Every path parameter names a seeded object (its collection's), so
            # the operation reaches the object instead of answering 404.
            filled = fill(operation.path, fuzz_target["ids"]).strip("/").split("/")
            template = operation.path.strip("/").split("/")
            case.path_parameters = {
                segment[1:-1]: value
                for segment, value in zip(template, filled, strict=True)
                if segment.startswith("{")
            }
        case.call_and_validate(**fuzz_target["call"], excluded_checks=EXCLUDED_CHECKS)

    fuzz()


# The stateful run gets the key through schemathesis's auth hook, so that its
# "ignored auth" check knows the key for the one to take away: it re-sends
# steps without a key and with a made-up one, and expects both refused.
stateful_schema = schemathesis.openapi.from_dict(document)
stateful_schema.app = schema.app


@stateful_schema.auth(refresh_interval=None)
class FuzzKey:
    """The read-write key of the running test (``FuzzKey.header``)."""

    header = None

    def get(self, case, context):
        return FuzzKey.header

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": data}


def test_api_statefully(fuzz_target):
    """Chains of operations, each fed what an earlier one answered (ids of created objects)."""
    FuzzKey.header = fuzz_target["call"]["headers"]["Authorization"]

    class Workflow(stateful_schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"base_url": fuzz_target["call"]["base_url"]}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response,
                excluded_checks=EXCLUDED_CHECKS,
                transport_kwargs=kwargs,
                recorder=self.recorder,
            )

    assert Workflow.bundles, "schemathesis found no links between the operations"
    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
    )


@pytest.fixture
def platform_target(public_tenant, _keep_the_test_connection):
    with schema_context(get_public_schema_name()):
        admin = user_create(
            email="fuzz@platform.example", password=None, is_staff=True, is_superuser=True
        )
        _key, raw_key = api_key_create(
            by=admin, user=admin, name="fuzz", access=APIKey.Access.READ_WRITE
        )
    return {
        "base_url": f"http://{django_settings.BASE_DOMAIN}",
        "headers": {"Authorization": f"Bearer {raw_key}"},
    }


@pytest.mark.parametrize("operation", _operations(public_schema))
def test_public_api_operation(operation, platform_target):
    @FUZZ_SETTINGS
    @given(case=_cases(operation))
    def fuzz(case):
        if "subdomain" in case.path_parameters:
            case.path_parameters["subdomain"] = "alpha"  # A real tenant, not a 404.
        case.call_and_validate(**platform_target, excluded_checks=EXCLUDED_CHECKS)

    fuzz()
