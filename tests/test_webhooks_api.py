"""The webhooks REST API: endpoint CRUD, deliveries and replay, for admins with the feature."""

import pytest
import responses
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.roles import BuiltinRole
from smartmaintenance.celery import app as celery_app
from tenants.services import tenant_update
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookEndpoint

HOOK = "https://hooks.example.com/alpha"


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.WEBHOOKS_ALLOW_HTTP = False
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False


@pytest.fixture
def eager():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _deliveries(endpoint, count, status=WebhookDelivery.Status.FAILED):
    now = timezone.now()
    return WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            endpoint=endpoint,
            event_kind="request.created",
            event_id="8c3b7a52-6d1f-4c57-9d53-0f1e7b0f5a10",
            payload={"id": "8c3b7a52-6d1f-4c57-9d53-0f1e7b0f5a10", "type": "request.created"},
            status=status,
            attempts=6,
            last_response_code=500,
            next_attempt_at=None if status == "failed" else now,
        )
        for _ in range(count)
    )


def test_admins_manage_endpoints(alpha, api_for):
    client, user, _key = api_for(alpha)
    response = client.post(
        "/api/v1/webhooks/",
        {"url": HOOK, "description": "ERP", "events": ["request.created", "request.assigned"]},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["url"] == HOOK
    assert body["events"] == ["request.assigned", "request.created"]
    assert body["is_active"] is True
    assert body["secret"].startswith("whsec_")
    assert body["created_by"] == user.email
    endpoint_id = body["id"]

    listed = client.get("/api/v1/webhooks/").json()
    assert [item["id"] for item in listed["results"]] == [endpoint_id]

    response = client.patch(f"/api/v1/webhooks/{endpoint_id}/", {"events": [], "is_active": False})
    assert response.status_code == 200
    assert (response.json()["events"], response.json()["is_active"]) == ([], False)

    rotated = client.post(f"/api/v1/webhooks/{endpoint_id}/rotate-secret/")
    assert rotated.status_code == 200
    assert rotated.json()["secret"] not in (body["secret"], "")
    assert WebhookEndpoint.objects.get().secret == rotated.json()["secret"]

    assert client.delete(f"/api/v1/webhooks/{endpoint_id}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"url": "http://hooks.example.com/"}, "url"),
        ({"url": "https://127.0.0.1/hook"}, "url"),
        ({"url": "https://169.254.169.254/latest/"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": HOOK, "events": ["request.deleted"]}, "events.0"),
    ],
)
def test_bad_input_is_a_field_error(alpha, api_for, data, field):
    client, _user, _key = api_for(alpha)
    response = client.post("/api/v1/webhooks/", data)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["fields"]) == [field]
    assert not WebhookEndpoint.objects.exists()


def test_an_unsafe_url_cannot_be_patched_in(alpha, api_for):
    client, _user, _key = api_for(alpha)
    endpoint_id = client.post("/api/v1/webhooks/", {"url": HOOK}).json()["id"]
    response = client.patch(f"/api/v1/webhooks/{endpoint_id}/", {"url": "https://10.0.0.1/"})
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "url": ["The URL must point to a public internet address."]
    }
    assert WebhookEndpoint.objects.get().url == HOOK


@pytest.mark.parametrize("role", [BuiltinRole.MANAGER, BuiltinRole.TECHNICIAN])
def test_non_admins_are_refused(alpha, api_for, role):
    client, _user, _key = api_for(alpha, role=role)
    for response in (
        client.get("/api/v1/webhooks/"),
        client.post("/api/v1/webhooks/", {"url": HOOK}),
    ):
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_a_read_only_key_may_only_read(alpha, api_for):
    client, _user, _key = api_for(alpha, access="read_only")
    assert client.get("/api/v1/webhooks/").status_code == 200
    assert client.post("/api/v1/webhooks/", {"url": HOOK}).status_code == 403


def test_a_plan_without_webhooks_is_403_feature_not_in_plan(alpha, api_for):
    client, _user, _key = api_for(alpha)
    with schema_context(get_public_schema_name()):
        tenant_update(tenant=alpha, actor="test", feature_overrides={"webhooks": False})
    alpha.refresh_from_db()
    for response in (
        client.get("/api/v1/webhooks/"),
        client.post("/api/v1/webhooks/", {"url": HOOK}),
    ):
        assert response.status_code == 403
        assert response.json() == {
            "code": "feature_not_in_plan",
            "message": "Outgoing webhooks is not included in your Premium plan.",
        }


def test_deliveries_are_listed_with_their_response_codes(alpha, api_for):
    client, user, _key = api_for(alpha)
    endpoint = services.endpoint_create(by=user, url=HOOK)
    other = services.endpoint_create(by=user, url="https://other.example.com/")
    _deliveries(endpoint, 2)
    _deliveries(other, 1)
    _deliveries(endpoint, 1, status=WebhookDelivery.Status.RETRYING)

    body = client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/").json()
    assert body["count"] == 3
    first = body["results"][0]
    assert {first["endpoint"], first["last_response_code"], first["attempts"]} == {
        endpoint.pk,
        500,
        6,
    }
    assert first["payload"]["type"] == "request.created"
    failed = client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/?status=failed").json()
    assert failed["count"] == 2
    bad = client.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/?status=lost")
    assert bad.status_code == 400

    one = client.get(f"/api/v1/webhook-deliveries/{first['id']}/")
    assert one.status_code == 200
    assert one.json()["id"] == first["id"]


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_list_query_counts_do_not_grow_with_the_page(alpha, api_for):
    client, user, _key = api_for(alpha)
    endpoint = services.endpoint_create(by=user, url=HOOK)
    _deliveries(endpoint, 2)
    _queries(client, "/api/v1/webhooks/")  # warm up: the key's last_used, cached permissions
    few_endpoints = _queries(client, "/api/v1/webhooks/")
    few_deliveries = _queries(client, f"/api/v1/webhooks/{endpoint.pk}/deliveries/")

    for number in range(6):
        services.endpoint_create(by=user, url=f"https://hooks{number}.example.com/")
    _deliveries(endpoint, 20)
    assert _queries(client, "/api/v1/webhooks/") == few_endpoints
    assert _queries(client, f"/api/v1/webhooks/{endpoint.pk}/deliveries/") == few_deliveries


def test_replay_sends_a_new_delivery(
    alpha, api_for, eager, http, settings, resolver, django_capture_on_commit_callbacks
):
    # Sending resolves the host first; there is no DNS here.
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    resolver.answer("hooks.example.com", "127.0.0.1")
    client, user, _key = api_for(alpha)
    endpoint = services.endpoint_create(by=user, url=HOOK)
    (failed,) = _deliveries(endpoint, 1)
    http.post(HOOK, status=200, body="ok")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/webhook-deliveries/{failed.pk}/replay/")
    assert response.status_code == 202
    replay = WebhookDelivery.objects.get(pk=response.json()["id"])
    failed.refresh_from_db()
    assert (replay.replay_of_id, replay.event_id) == (failed.pk, failed.event_id)
    assert (replay.status, replay.last_response_code) == ("succeeded", 200)
    assert len(http.calls) == 1

    manager_client, _user, _key = api_for(alpha, role=BuiltinRole.MANAGER)
    refused = manager_client.post(f"/api/v1/webhook-deliveries/{failed.pk}/replay/")
    assert refused.status_code == 403


def test_another_tenants_webhooks_are_not_found(alpha, beta, api_for):
    _client, alpha_admin, _key = api_for(alpha)
    with schema_context(alpha.schema_name):
        endpoint = services.endpoint_create(by=alpha_admin, url=HOOK)
        (delivery,) = _deliveries(endpoint, 1)
    beta_client, _user, _key = api_for(beta)
    assert beta_client.get("/api/v1/webhooks/").json()["count"] == 0
    assert beta_client.get(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 404
    assert beta_client.get(f"/api/v1/webhook-deliveries/{delivery.pk}/").status_code == 404
    assert beta_client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay/").status_code == 404
