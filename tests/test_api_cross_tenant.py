"""
Every operation of the tenant API, read from its own OpenAPI schema, refuses
another tenant's key with 401: keys live in their tenant's schema.
"""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.conftest import APIClient

document = SchemaGenerator(urlconf="smartmaintenance.urls_tenant").get_schema(public=True)
OPERATIONS = [
    (method, path)
    for path, methods in document["paths"].items()
    for method in methods
    if method in {"get", "post", "patch", "put", "delete"}
]
PUBLIC = {"/api/v1/schema/", "/api/v1/docs/"}


def test_every_operation_is_listed():
    assert len(OPERATIONS) > 40


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_a_key_of_alpha_is_refused_by_beta_everywhere(alpha, beta, api_for, method, path):
    alpha_client, _user, _key = api_for(alpha)
    api_for(beta)  # beta has API access too: the refusal is about the key alone
    url = re.sub(r"\{[^}]+\}", "1", path)
    beta_client = APIClient(beta, HTTP_AUTHORIZATION=alpha_client.defaults["HTTP_AUTHORIZATION"])
    response = getattr(beta_client, method)(url, {} if method in {"post", "patch", "put"} else None)
    if path in PUBLIC:
        assert response.status_code == 200
    else:
        assert response.status_code == 401, (method, url, response.content[:200])
        assert response.json()["code"] == "invalid_key"
