"""
Outgoing webhooks: events into signed deliveries, retries, replay, the URL
rules, the plan gate, tenant isolation, and the admins' web pages.

Only the HTTP boundary is mocked (``responses``); Celery runs eagerly.
"""

import io
import json
import socket
import sys
import time
import types
from datetime import timedelta

import pytest
import responses
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import NoReverseMatch, include, path, reverse
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from billing.limits import FeatureNotInPlan
from billing.services import tenant_change_plan
from requests_app.events import EventKind
from requests_app.services import request_comment_create, request_create, request_transition
from smartmaintenance.celery import app as celery_app
from tenants.models import Tenant
from tenants.services import tenant_update
from webhooks import services
from webhooks.delivery import MAX_ATTEMPTS, RESPONSE_EXCERPT_BYTES, delivery_attempt
from webhooks.events import event_payload_build
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.signing import signature_header, signature_verify
from webhooks.tasks import deliveries_enqueue_due, webhook_delivery_send

HOOK = "https://hooks.example.com/alpha"
OTHER = "https://other.example.com/in"


# --- Fixtures -------------------------------------------------------------------


def _set_plan(tenant, plan, **overrides):
    with schema_context(get_public_schema_name()):
        if tenant.plan != plan:
            tenant_change_plan(tenant=tenant, plan=plan, actor="test")
        tenant_update(tenant=tenant, actor="test", max_users=None, **overrides)
    tenant.refresh_from_db()


@pytest.fixture(autouse=True)
def _webhook_settings(settings, resolver):
    # Production's URL rules; private addresses are allowed only so that the
    # receivers' names can point at this machine (the SSRF tests turn that
    # back off). Sending resolves the name once; there is no DNS here.
    settings.WEBHOOKS_ALLOW_HTTP = False
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    resolver.answer("hooks.example.com", "127.0.0.1")
    resolver.answer("other.example.com", "127.0.0.1")


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


@pytest.fixture
def staff(alpha):
    _set_plan(alpha, "premium")
    roles = roles_provision_defaults()
    return {
        role: user_create(email=f"{role.lower()}@hooks.example", password=None, roles=[roles[role]])
        for role in BuiltinRole
    }


@pytest.fixture
def admin(staff):
    return staff[BuiltinRole.ADMIN]


def _life_of_a_request(staff, capture):
    """A request created, triaged, assigned and commented: five events, four kinds."""
    manager, tech = staff[BuiltinRole.MANAGER], staff[BuiltinRole.TECHNICIAN]
    with capture(execute=True):
        request = request_create(title="Leak", requester=staff[BuiltinRole.REQUESTER])
    with capture(execute=True):
        request_transition(request=request, to_status="triaged", by=manager)
        request_transition(request=request, to_status="assigned", by=manager, assignee=tech)
        request_comment_create(request=request, author=tech, body="On my way")
    return request


# --- Events into deliveries ----------------------------------------------------------


def test_each_kind_makes_one_delivery_per_matching_endpoint(
    staff, admin, eager, http, django_capture_on_commit_callbacks
):
    everything = services.endpoint_create(by=admin, url=HOOK)
    comments = services.endpoint_create(by=admin, url=OTHER, events=[EventKind.COMMENTED])
    services.endpoint_create(by=admin, url="https://off.example.com/", is_active=False)
    http.post(HOOK, status=200, body="thanks")
    http.post(OTHER, status=204)

    request = _life_of_a_request(staff, django_capture_on_commit_callbacks)

    kinds = list(
        WebhookDelivery.objects.filter(endpoint=everything)
        .order_by("created")
        .values_list("event_kind", flat=True)
    )
    assert kinds == [
        EventKind.CREATED,
        EventKind.STATUS_CHANGED,
        EventKind.STATUS_CHANGED,
        EventKind.ASSIGNED,
        EventKind.COMMENTED,
    ]
    assert list(comments.deliveries.values_list("event_kind", flat=True)) == [EventKind.COMMENTED]
    assert WebhookDelivery.objects.count() == 6  # none for the inactive endpoint
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {
        (WebhookDelivery.Status.SUCCEEDED, 1)
    }
    assert set(WebhookDelivery.objects.values_list("last_response_code", flat=True)) == {200, 204}
    assert len(http.calls) == 6

    # What the receiver got: the event, the request as it is, signed.
    created = http.calls[0].request
    body = json.loads(created.body)
    assert created.headers["X-SmartMaintenance-Event"] == "request.created"
    delivery = WebhookDelivery.objects.get(endpoint=everything, event_kind=EventKind.CREATED)
    assert created.headers["X-SmartMaintenance-Delivery"] == str(delivery.pk)
    assert created.headers["Content-Type"] == "application/json"
    assert body["type"] == "request.created"
    assert body["id"] == str(delivery.event_id)
    assert body["tenant"] == "alpha"
    assert body["request"]["number"] == request.number
    assert body["request"]["title"] == "Leak"
    assert body["request"]["requester"] == staff[BuiltinRole.REQUESTER].email
    assert body == delivery.payload
    assert signature_verify(
        everything.secret, created.headers["X-SmartMaintenance-Signature"], created.body
    )
    assigned = WebhookDelivery.objects.get(endpoint=everything, event_kind=EventKind.ASSIGNED)
    assert assigned.payload["data"]["assignee"] == staff[BuiltinRole.TECHNICIAN].email
    assert assigned.payload["request"]["assignee"] == staff[BuiltinRole.TECHNICIAN].email
    comment_call = json.loads(http.calls[-1].request.body)
    assert comment_call["data"]["body"] == "On my way"


def test_a_rolled_back_change_sends_nothing(
    staff, admin, eager, http, django_capture_on_commit_callbacks
):
    services.endpoint_create(by=admin, url=HOOK)
    from django.db import transaction

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        request_create(title="Leak", requester=staff[BuiltinRole.REQUESTER])
        raise RuntimeError
    assert WebhookDelivery.objects.count() == 0
    assert len(http.calls) == 0


# --- Signatures --------------------------------------------------------------------


def test_the_signature_verifies_only_with_the_secret_the_body_and_a_fresh_time():
    secret, body = "whsec_test", b'{"id":"1"}'
    header = signature_header(secret, body)
    assert signature_verify(secret, header, body)
    assert not signature_verify("whsec_other", header, body)
    assert not signature_verify(secret, header, b'{"id":"2"}')
    old = signature_header(secret, body, timestamp=time.time() - 301)
    assert not signature_verify(secret, old, body)
    future = signature_header(secret, body, timestamp=time.time() + 301)
    assert not signature_verify(secret, future, body)
    slightly_old = signature_header(secret, body, timestamp=time.time() - 200)
    assert signature_verify(secret, slightly_old, body)
    for garbage in ["", "t=abc,v1=00", "v1=00", f"t={int(time.time())}", "nonsense"]:
        assert not signature_verify(secret, garbage, body)


def test_the_signature_is_over_the_timestamp_and_the_exact_body():
    import hashlib
    import hmac

    header = signature_header("s3cret", b"{}", timestamp=1700000000)
    expected = hmac.new(b"s3cret", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


# --- Retries ------------------------------------------------------------------------


@pytest.fixture
def pending(admin):
    """A delivery waiting for its first attempt (its task not run)."""
    endpoint = services.endpoint_create(by=admin, url=HOOK)
    request = request_create(title="Leak")
    payload = event_payload_build(
        kind=EventKind.CREATED,
        request_id=request.pk,
        data={},
        event_id="8c3b7a52-6d1f-4c57-9d53-0f1e7b0f5a10",
        occurred_at=timezone.now(),
    )
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_kind=EventKind.CREATED,
        event_id=payload["id"],
        payload=payload,
        next_attempt_at=timezone.now(),
    )


def test_a_failure_schedules_a_retry_with_backoff_then_success_delivers(pending, http):
    http.post(HOOK, status=500, body="oops")
    now = timezone.now()
    assert delivery_attempt(delivery_id=pending.pk, now=now) == 60
    pending.refresh_from_db()
    assert (pending.status, pending.attempts, pending.last_response_code) == ("retrying", 1, 500)
    assert pending.next_attempt_at == now + timedelta(minutes=1)
    assert pending.last_response_body == "oops"
    assert pending.last_error == "HTTP 500"
    assert pending.delivered_at is None

    assert delivery_attempt(delivery_id=pending.pk, now=now) == 5 * 60
    pending.refresh_from_db()
    assert (pending.status, pending.attempts) == ("retrying", 2)

    http.replace(responses.POST, HOOK, status=200, body="ok")
    assert delivery_attempt(delivery_id=pending.pk) is None
    pending.refresh_from_db()
    assert (pending.status, pending.attempts, pending.last_response_code) == ("succeeded", 3, 200)
    assert pending.delivered_at is not None
    assert pending.next_attempt_at is None
    assert pending.last_error == ""
    # Delivered: a late duplicate task sends nothing more.
    assert delivery_attempt(delivery_id=pending.pk) is None
    assert len(http.calls) == 3


def test_it_gives_up_after_the_last_attempt(pending, http):
    http.post(HOOK, status=503)
    countdowns = [delivery_attempt(delivery_id=pending.pk) for _ in range(MAX_ATTEMPTS)]
    assert countdowns == [60, 300, 1800, 7200, 21600, None]
    pending.refresh_from_db()
    assert (pending.status, pending.attempts, pending.next_attempt_at) == ("failed", 6, None)
    assert delivery_attempt(delivery_id=pending.pk) is None
    assert len(http.calls) == MAX_ATTEMPTS


def test_the_task_retries_through_celery_until_it_succeeds(pending, http, eager):
    http.post(HOOK, status=500)
    http.post(HOOK, status=502)
    http.post(HOOK, status=200)
    webhook_delivery_send.apply_async(args=[str(pending.pk)])
    pending.refresh_from_db()
    assert (pending.status, pending.attempts, pending.last_response_code) == ("succeeded", 3, 200)


def test_network_errors_and_redirects_are_failures_logged(pending, http):
    import requests

    http.post(HOOK, body=requests.ConnectTimeout("too slow"))
    delivery_attempt(delivery_id=pending.pk)
    pending.refresh_from_db()
    assert pending.last_response_code is None
    assert pending.last_error.startswith("ConnectTimeout")
    assert pending.status == "retrying"

    http.replace(responses.POST, HOOK, status=302, headers={"Location": "http://10.0.0.1/"})
    delivery_attempt(delivery_id=pending.pk)
    pending.refresh_from_db()
    assert (pending.last_response_code, pending.status) == (302, "retrying")
    assert len(http.calls) == 2  # the redirect was not followed


def test_the_response_body_is_kept_as_an_excerpt(pending, http):
    http.post(HOOK, status=400, body="x" * 50_000)
    delivery_attempt(delivery_id=pending.pk)
    pending.refresh_from_db()
    assert len(pending.last_response_body) == RESPONSE_EXCERPT_BYTES


def test_a_deactivated_endpoint_stops_its_retries(pending, admin, http):
    services.endpoint_update(endpoint=pending.endpoint, by=admin, is_active=False)
    assert delivery_attempt(delivery_id=pending.pk) is None
    pending.refresh_from_db()
    assert pending.status == "failed"
    assert len(http.calls) == 0


def test_the_sweep_requeues_overdue_deliveries(
    pending, http, eager, django_capture_on_commit_callbacks
):
    http.post(HOOK, status=200)
    assert deliveries_enqueue_due() == 0  # not overdue yet
    WebhookDelivery.objects.filter(pk=pending.pk).update(
        next_attempt_at=timezone.now() - timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_enqueue_due() == 1
    pending.refresh_from_db()
    assert pending.status == "succeeded"


def test_a_duplicate_task_message_sends_nothing_more(pending, http):
    # Redis hands an ETA task out again after its visibility timeout.
    http.post(HOOK, status=500)
    assert delivery_attempt(delivery_id=pending.pk, expected_attempts=0) == 60
    assert delivery_attempt(delivery_id=pending.pk, expected_attempts=0) is None
    pending.refresh_from_db()
    assert pending.attempts == 1
    assert len(http.calls) == 1


def test_the_command_requeues_overdue_deliveries_per_tenant(
    pending, http, eager, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    http.post(HOOK, status=200)
    WebhookDelivery.objects.filter(pk=pending.pk).update(
        next_attempt_at=timezone.now() - timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("webhooks_send_due", "alpha", stdout=io.StringIO())
    pending.refresh_from_db()
    assert pending.status == "succeeded"


# --- Replay ----------------------------------------------------------------------------


def test_replay_sends_the_same_event_again_as_a_new_delivery(
    pending, admin, staff, http, eager, django_capture_on_commit_callbacks
):
    http.post(HOOK, status=500)
    for _ in range(MAX_ATTEMPTS):
        delivery_attempt(delivery_id=pending.pk)
    http.replace(responses.POST, HOOK, status=200)

    with django_capture_on_commit_callbacks(execute=True):
        replay = services.delivery_replay(delivery=pending, by=admin)
    replay.refresh_from_db()
    pending.refresh_from_db()
    assert replay.pk != pending.pk
    assert (replay.status, replay.attempts, replay.replay_of) == ("succeeded", 1, pending)
    assert (replay.event_id, replay.payload) == (pending.event_id, pending.payload)
    assert pending.status == "failed"  # the original keeps its own log
    last = http.calls[-1].request
    assert last.headers["X-SmartMaintenance-Delivery"] == str(replay.pk)
    assert json.loads(last.body)["id"] == str(pending.event_id)

    with pytest.raises(PermissionDenied):
        services.delivery_replay(delivery=pending, by=staff[BuiltinRole.MANAGER])


# --- Who may, and the plan ------------------------------------------------------------------


def test_only_admins_manage_webhooks(staff, admin):
    for role in (BuiltinRole.MANAGER, BuiltinRole.TECHNICIAN, BuiltinRole.REQUESTER):
        with pytest.raises(PermissionDenied):
            services.endpoint_create(by=staff[role], url=HOOK)
    endpoint = services.endpoint_create(by=admin, url=HOOK)
    for call in (services.endpoint_rotate_secret, services.endpoint_delete):
        with pytest.raises(PermissionDenied):
            call(endpoint=endpoint, by=staff[BuiltinRole.MANAGER])


def test_rotating_the_secret_replaces_it(admin):
    endpoint = services.endpoint_create(by=admin, url=HOOK)
    old = endpoint.secret
    assert old.startswith("whsec_") and len(old) > 40
    services.endpoint_rotate_secret(endpoint=endpoint, by=admin)
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret.startswith("whsec_")


def test_webhooks_need_a_plan_that_includes_them(
    alpha, staff, admin, eager, http, django_capture_on_commit_callbacks
):
    endpoint = services.endpoint_create(by=admin, url=HOOK)
    _set_plan(alpha, "basic")
    with pytest.raises(FeatureNotInPlan):
        services.endpoint_create(by=admin, url=OTHER)
    with pytest.raises(FeatureNotInPlan):
        services.endpoint_rotate_secret(endpoint=endpoint, by=admin)
    # After a downgrade, existing endpoints stay silent.
    http.post(HOOK, status=200)
    with django_capture_on_commit_callbacks(execute=True):
        request_create(title="Leak")
    assert WebhookDelivery.objects.count() == 0
    assert len(http.calls) == 0


# --- Tenant isolation ------------------------------------------------------------------


def test_another_tenants_endpoints_never_hear_of_alphas_events(
    alpha, staff, admin, eager, http, django_capture_on_commit_callbacks
):
    beta = Tenant.objects.get(subdomain="beta")
    _set_plan(beta, "premium")
    with tenant_context(beta):
        beta_admin = user_create(
            email="admin@beta.example",
            password=None,
            roles=[roles_provision_defaults()[BuiltinRole.ADMIN]],
        )
        services.endpoint_create(by=beta_admin, url=OTHER)
    services.endpoint_create(by=admin, url=HOOK)
    http.post(HOOK, status=200)
    http.post(OTHER, status=200)

    _life_of_a_request(staff, django_capture_on_commit_callbacks)

    assert {call.request.url for call in http.calls} == {HOOK}
    assert {json.loads(call.request.body)["tenant"] for call in http.calls} == {"alpha"}
    with tenant_context(beta):
        assert WebhookDelivery.objects.count() == 0
        assert WebhookEndpoint.objects.count() == 1


# --- URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/",
        "ftp://hooks.example.com/",
        "https://localhost/hook",
        "https://printer.local/",
        "https://127.0.0.1/",
        "https://10.1.2.3/",
        "https://192.168.0.10:8443/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/",
        "https://[::ffff:10.0.0.1]/",
        "https://0.0.0.0/",
        "https://user:pass@hooks.example.com/",
        "not a url",
    ],
)
def test_bad_urls_are_refused_with_a_field_error(admin, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ValidationError) as refused:
        services.endpoint_create(by=admin, url=url)
    assert list(refused.value.message_dict) == ["url"]
    assert WebhookEndpoint.objects.count() == 0


def test_public_https_urls_are_accepted(admin, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    assert services.endpoint_create(by=admin, url="https://93.184.216.34/hook").pk
    assert services.endpoint_create(by=admin, url="https://hooks.example.com:8443/x?y=1").pk


def test_development_may_use_plain_http_on_localhost(admin, settings):
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    assert services.endpoint_create(by=admin, url="http://localhost:9000/hook").pk


def test_unknown_events_are_refused(admin):
    with pytest.raises(ValidationError) as refused:
        services.endpoint_create(by=admin, url=HOOK, events=["request.deleted"])
    assert list(refused.value.message_dict) == ["events"]


def test_a_name_that_resolves_to_a_private_address_is_not_sent_to(
    pending, http, settings, monkeypatch
):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False

    def resolve(host, port, *args, **kwargs):
        assert host == "hooks.example.com"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    http.post(HOOK, status=200)
    delivery_attempt(delivery_id=pending.pk)
    pending.refresh_from_db()
    assert pending.status == "retrying"
    assert "public internet address" in pending.last_error
    assert len(http.calls) == 0


# --- Web UI --------------------------------------------------------------------------------


@pytest.fixture
def web_urls(settings, monkeypatch):
    """
    The real tenant URLs plus /settings/webhooks/, until
    smartmaintenance/urls_tenant.py includes webhooks.urls itself.
    """
    try:
        reverse("webhooks:endpoint_list")
        return
    except NoReverseMatch:
        pass
    module = types.ModuleType("webhooks_test_urlconf")
    module.urlpatterns = [
        path("settings/webhooks/", include("webhooks.urls")),
        path("", include(settings.ROOT_URLCONF)),
    ]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    settings.ROOT_URLCONF = module.__name__


@pytest.fixture
def admin_client(alpha_client, admin, web_urls):
    alpha_client.force_login(admin)
    return alpha_client


def test_admins_create_and_edit_a_webhook_in_the_web_ui(admin_client):
    response = admin_client.get("/settings/webhooks/")
    assert response.status_code == 200
    assert b"No webhooks yet" in response.content

    response = admin_client.post(
        "/settings/webhooks/new/",
        {"url": HOOK, "description": "ERP", "events": ["request.created"], "is_active": "on"},
    )
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/settings/webhooks/{endpoint.pk}/"
    assert endpoint.events == ["request.created"]
    page = admin_client.get(response["Location"])
    assert endpoint.secret in page.content.decode()

    response = admin_client.post(
        f"/settings/webhooks/{endpoint.pk}/edit/", {"url": OTHER, "description": ""}
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.is_active) == (OTHER, [], False)

    old_secret = endpoint.secret
    admin_client.post(f"/settings/webhooks/{endpoint.pk}/rotate-secret/")
    endpoint.refresh_from_db()
    assert endpoint.secret != old_secret

    assert admin_client.get(f"/settings/webhooks/{endpoint.pk}/delete/").status_code == 200
    admin_client.post(f"/settings/webhooks/{endpoint.pk}/delete/")
    assert not WebhookEndpoint.objects.exists()


def test_a_bad_url_is_shown_on_its_field(admin_client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    response = admin_client.post("/settings/webhooks/new/", {"url": "https://127.0.0.1/x"})
    assert response.status_code == 200
    assert response.context["form"].errors["url"] == [
        "The URL must point to a public internet address."
    ]
    response = admin_client.post("/settings/webhooks/new/", {"url": "http://hooks.example.com/"})
    assert response.context["form"].errors["url"] == ["The URL must start with https://."]
    assert not WebhookEndpoint.objects.exists()


def test_deliveries_are_listed_with_their_codes_and_can_be_replayed(
    admin_client, pending, http, eager, django_capture_on_commit_callbacks
):
    http.post(HOOK, status=503)
    delivery_attempt(delivery_id=pending.pk)
    page = admin_client.get(f"/settings/webhooks/{pending.endpoint_id}/").content.decode()
    assert "503" in page and "Retrying" in page and "Replay" in page
    detail = admin_client.get(f"/settings/webhooks/deliveries/{pending.pk}/")
    assert detail.status_code == 200
    assert "request.created" in detail.content.decode()

    http.replace(responses.POST, HOOK, status=200)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/settings/webhooks/deliveries/{pending.pk}/replay/")
    replay = WebhookDelivery.objects.get(replay_of=pending)
    assert response["Location"] == f"/settings/webhooks/deliveries/{replay.pk}/"
    replay.refresh_from_db()
    assert (replay.status, replay.last_response_code) == ("succeeded", 200)


def test_non_admins_get_403_in_the_web_ui(alpha_client, staff, web_urls):
    endpoint = services.endpoint_create(by=staff[BuiltinRole.ADMIN], url=HOOK)
    alpha_client.force_login(staff[BuiltinRole.MANAGER])
    for url in ("/settings/webhooks/", f"/settings/webhooks/{endpoint.pk}/"):
        assert alpha_client.get(url).status_code == 403
    assert alpha_client.post(f"/settings/webhooks/{endpoint.pk}/rotate-secret/").status_code == 403
    assert alpha_client.get("/settings/webhooks/999999/").status_code == 403  # no 404 hint


def test_anonymous_visitors_are_sent_to_log_in(alpha_client, web_urls):
    response = alpha_client.get("/settings/webhooks/")
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_web_ui_explains_a_plan_without_webhooks(alpha, admin_client):
    _set_plan(alpha, "basic")
    response = admin_client.get("/settings/webhooks/")
    assert response.status_code == 403
    assert "Outgoing webhooks is not included in your Basic plan." in response.content.decode()
    assert admin_client.post("/settings/webhooks/new/", {"url": HOOK}).status_code == 403
    assert not WebhookEndpoint.objects.exists()
