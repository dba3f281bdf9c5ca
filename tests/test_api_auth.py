"""
The API's shared rules: keys (per tenant, hashed, revocable, read-only),
the plan gate, throttling, the error format, the schema and its docs page.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from accounts.api_keys import api_key_authenticate, api_key_create, api_key_revoke
from accounts.models import APIKey
from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from tenants.services import tenant_update
from tests.conftest import APIClient


def test_no_key_is_a_401_with_a_challenge(alpha, api_for):
    api_for(alpha)
    response = APIClient(alpha).get("/api/v1/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
    }


def test_a_key_answers_as_its_user(alpha, api_for):
    client, user, key = api_for(alpha, role=BuiltinRole.TECHNICIAN)
    body = client.get("/api/v1/me/").json()
    assert (body["email"], body["roles"], body["is_technician"]) == (
        user.email,
        ["Technician"],
        True,
    )
    key.refresh_from_db()
    assert key.last_used is not None


def test_last_used_is_written_at_most_once_every_ten_minutes(alpha, api_for):
    client, _user, key = api_for(alpha)

    def used_after(minutes_ago):
        with tenant_context(alpha):
            stamped = timezone.now() - timedelta(minutes=minutes_ago)
            APIKey.objects.filter(pk=key.pk).update(last_used=stamped)
        client.get("/api/v1/me/")
        key.refresh_from_db()
        return key.last_used != stamped

    assert not used_after(9)
    assert used_after(10)


def test_last_used_commits_on_its_own_and_leaves_the_connection_as_it_was(
    committed_tenant, in_own_connection
):
    # Outside any transaction, as a request runs: the stamp is a transaction
    # of its own that commits without waiting for the disk (SET LOCAL), and
    # the connection's next transactions wait again.
    tenant = committed_tenant("stamps", plan="premium")

    def make_key():
        with tenant_context(tenant):
            roles = roles_provision_defaults()
            admin = user_create(
                email="admin@stamps.example", password=None, roles=[roles[BuiltinRole.ADMIN]]
            )
            return api_key_create(by=admin, name="stamp")

    key, raw_key = in_own_connection(make_key)

    def use_key():
        with tenant_context(tenant):
            assert api_key_authenticate(raw_key).pk == key.pk
            assert not connection.in_atomic_block
            with connection.cursor() as cursor:
                cursor.execute("SHOW synchronous_commit")
                return cursor.fetchone()[0], APIKey.objects.get(pk=key.pk).last_used

    setting, last_used = in_own_connection(use_key)
    assert setting == "on"
    assert last_used is not None


@pytest.mark.parametrize(
    "header",
    ["Bearer smk_nope_nope", "Bearer garbage", "Bearer a b", "Bearer smk_", "Bearer \xff"],
)
def test_bad_keys_are_401(alpha, api_for, header):
    api_for(alpha)
    response = APIClient(alpha).get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_key"


def test_a_key_of_one_tenant_is_refused_by_another(alpha, beta, api_for):
    alpha_client, _user, _key = api_for(alpha)
    api_for(beta)
    key_header = alpha_client.defaults["HTTP_AUTHORIZATION"]
    response = APIClient(beta).get("/api/v1/me/", HTTP_AUTHORIZATION=key_header)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_key"


def test_keys_are_stored_hashed(alpha, api_for):
    client, _user, key = api_for(alpha)
    raw_key = client.defaults["HTTP_AUTHORIZATION"].removeprefix("Bearer ")
    secret = raw_key.rsplit("_", 1)[1]
    stored = APIKey.objects.filter(pk=key.pk).values().get()
    assert secret not in str(stored)
    assert len(stored["hashed_secret"]) == 64


def test_revoked_keys_and_deactivated_users_are_401(alpha, api_for):
    client, user, key = api_for(alpha)
    assert client.get("/api/v1/me/").status_code == 200
    api_key_revoke(key=key, by=user)
    assert client.get("/api/v1/me/").status_code == 401

    client, user, _key = api_for(alpha, role=BuiltinRole.TECHNICIAN)
    user.is_active = False
    user.save()
    assert client.get("/api/v1/me/").status_code == 401


def test_a_read_only_key_may_only_read(alpha, api_for):
    client, _user, _key = api_for(alpha, access="read_only")
    assert client.get("/api/v1/api-keys/").status_code == 200
    response = client.post("/api/v1/api-keys/", {"name": "more"})
    assert response.status_code == 403
    assert response.json() == {"code": "read_only_key", "message": "This API key is read-only."}


def test_the_api_needs_a_plan_with_api_access(alpha, api_for):
    client, _user, _key = api_for(alpha, plan="basic")
    response = client.get("/api/v1/me/")
    assert response.status_code == 403
    assert response.json()["code"] == "feature_not_in_plan"
    # A platform admin's override opens it.
    with schema_context(get_public_schema_name()):
        tenant_update(tenant=alpha, actor="test", feature_overrides={"api_access": True})
    assert client.get("/api/v1/me/").status_code == 200


def test_calls_are_throttled_per_key_at_the_plan_rate(alpha, api_for):
    with schema_context(get_public_schema_name()):
        tenant_update(tenant=alpha, actor="test", settings={"api_requests_per_minute": 3})
    client, _user, _key = api_for(alpha)
    other, _user, _key = api_for(alpha)
    assert [client.get("/api/v1/me/").status_code for _ in range(3)] == [200] * 3
    refused = client.get("/api/v1/me/")
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert other.get("/api/v1/me/").status_code == 200  # another key has its own budget


def test_unknown_paths_are_json_404s(alpha, api_for):
    client, _user, _key = api_for(alpha)
    response = client.get("/api/v2/nothing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_making_a_key_shows_it_once(alpha, api_for):
    client, admin, _key = api_for(alpha)
    made = client.post("/api/v1/api-keys/", {"name": "Zapier", "access": "read_only"})
    assert made.status_code == 201
    body = made.json()
    assert body["key"].startswith("smk_") and body["user"] == admin.email
    listed = client.get(f"/api/v1/api-keys/{body['id']}/").json()
    assert "key" not in listed and listed["key_hint"].endswith("_…")
    new_client = APIClient(alpha, body["key"])
    assert new_client.get("/api/v1/me/").json()["email"] == admin.email
    assert client.delete(f"/api/v1/api-keys/{body['id']}/").status_code == 204
    assert new_client.get("/api/v1/me/").status_code == 401


def test_only_admins_manage_keys(alpha, api_for):
    client, _user, _key = api_for(alpha, role=BuiltinRole.MANAGER)
    assert client.get("/api/v1/api-keys/").status_code == 403
    response = client.post("/api/v1/api-keys/", {"name": "x"})
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_invalid_input_names_the_field(alpha, api_for):
    client, _user, _key = api_for(alpha)
    response = client.post("/api/v1/api-keys/", {"name": "", "access": "everything"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"name", "access"}
    response = client.post("/api/v1/api-keys/", "{not json", content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "parse_error")


def test_a_plan_limit_on_create_is_403_plan_limit_reached(alpha, api_for):
    """Issue 3: a limit that blocks a create says so on the API too."""
    client, _user, _key = api_for(alpha)
    with schema_context(get_public_schema_name()):
        tenant_update(tenant=alpha, actor="test", max_users=1)
    assert connection.schema_name == alpha.schema_name
    response = client.post(
        "/api/v1/users/",
        {"email": "one.too.many@alpha.example", "full_name": "One", "roles": ["Technician"]},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "plan_limit_reached"
    assert "allows 1 users" in response.json()["message"]
    # A requester takes no seat.
    response = client.post(
        "/api/v1/users/", {"email": "asker@alpha.example", "roles": ["Requester"]}
    )
    assert response.status_code == 201, response.json()


def test_plan_and_usage(alpha, api_for):
    client, _user, _key = api_for(alpha)
    body = client.get("/api/v1/plan/").json()
    assert body["plan"] == "premium" and "api_access" in body["features"]
    assert body["usage"]["users"]["used"] >= 1
    assert body["api_rate"] == "600/min"


def test_the_schema_and_its_docs_page_are_served_without_a_cdn(alpha, api_for):
    api_for(alpha)
    client = APIClient(alpha)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert "Error" in document["components"]["schemas"]
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()
