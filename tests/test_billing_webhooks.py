"""
The Stripe webhook endpoint: signatures, tolerance, secret rotation, events
applied once (also when delivered twice at once), unknown customers, tenant
isolation, and dj-stripe's own endpoint kept out.
"""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import billing_stripe as fake
import pytest
import responses
from django.db import connection
from django_tenants.utils import get_public_schema_name, schema_context

from billing.models import StripeEvent, TenantSubscription
from billing.tasks import stripe_subscription_refresh
from tenants.models import Tenant, TenantAuditEntry
from tests.conftest import TenantClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _billing(settings):
    fake.configure(settings)


def _today():
    """A period that began a day ago: a payment failing now is within its grace."""
    return int(time.time()) - 86400


def _link(tenant, customer):
    with schema_context(get_public_schema_name()):
        TenantSubscription.objects.filter(tenant=tenant).update(stripe_customer_id=customer)


def _subscription(tenant):
    with schema_context(get_public_schema_name()):
        return TenantSubscription.objects.get(tenant=tenant)


def _tenant(tenant):
    with schema_context(get_public_schema_name()):
        return Tenant.objects.get(pk=tenant.pk)


def _events():
    with schema_context(get_public_schema_name()):
        return StripeEvent.objects.count()


def _created_event(customer, sub_id="sub_alpha", **fields):
    return fake.event(
        "customer.subscription.created",
        fake.subscription(sub_id=sub_id, customer=customer, **fields),
    )


def test_a_bad_signature_is_refused_and_nothing_is_stored(alpha, public_client):
    _link(alpha, "cus_alpha")
    body = _created_event("cus_alpha")

    wrong_secret = fake.post(public_client, body, secret="whsec_not_ours")
    tampered = public_client.post(
        fake.WEBHOOK_PATH,
        data=json.dumps({**body, "type": "customer.subscription.deleted"}),
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=fake.sign(json.dumps(body)),
    )
    unsigned = public_client.post(
        fake.WEBHOOK_PATH, data=json.dumps(body), content_type="application/json"
    )

    assert [wrong_secret.status_code, tampered.status_code, unsigned.status_code] == [400] * 3
    assert wrong_secret.json()["code"] == "invalid_signature"
    assert _events() == 0
    assert _subscription(alpha).stripe_subscription_id == ""


def test_a_timestamp_outside_the_tolerance_is_refused(alpha, public_client):
    _link(alpha, "cus_alpha")
    now = int(time.time())

    old = fake.post(public_client, _created_event("cus_alpha"), timestamp=now - 301)
    future = fake.post(public_client, _created_event("cus_alpha"), timestamp=now + 301)
    recent = fake.post(public_client, _created_event("cus_alpha"), timestamp=now - 200)

    assert (old.status_code, future.status_code, recent.status_code) == (400, 400, 200)
    assert _events() == 1


def test_during_a_rotation_both_secrets_are_accepted(alpha, public_client, settings):
    fake.configure(settings, secrets=(fake.OLD_WEBHOOK_SECRET, fake.WEBHOOK_SECRET))
    _link(alpha, "cus_alpha")

    by_old = fake.post(public_client, _created_event("cus_alpha"), secret=fake.OLD_WEBHOOK_SECRET)
    by_new = fake.post(public_client, _created_event("cus_alpha"), secret=fake.WEBHOOK_SECRET)
    fake.configure(settings, secrets=(fake.WEBHOOK_SECRET,))
    by_old_after = fake.post(
        public_client, _created_event("cus_alpha"), secret=fake.OLD_WEBHOOK_SECRET
    )

    assert (by_old.status_code, by_new.status_code, by_old_after.status_code) == (200, 200, 400)


def test_djstripe_shortcuts_are_not_reachable(alpha, public_client, settings):
    settings.DEBUG = False
    _link(alpha, "cus_alpha")
    body = json.dumps(_created_event("cus_alpha"))

    shortcut = public_client.post(
        fake.WEBHOOK_PATH,
        data=body,
        content_type="application/json",
        HTTP_X_DJSTRIPE_WEBHOOK_SECRET=fake.WEBHOOK_SECRET,
    )
    djstripe_own = public_client.post(
        "/stripe/webhook/", data=body, content_type="application/json"
    )

    assert shortcut.status_code == 400
    assert djstripe_own.status_code == 404
    assert _events() == 0


def test_the_same_event_twice_is_applied_once(alpha, public_client):
    _link(alpha, "cus_alpha")
    body = fake.event(
        "customer.subscription.created",
        fake.subscription(
            sub_id="sub_alpha", customer="cus_alpha", status="past_due", period_start=_today()
        ),
    )

    first = fake.post(public_client, body)
    audits = TenantAuditEntry.objects.filter(tenant=alpha, action="billing").count()
    second = fake.post(public_client, body)

    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.json()["duplicate"], second.json()["duplicate"]) == (False, True)
    assert _events() == 1
    assert TenantAuditEntry.objects.filter(tenant=alpha, action="billing").count() == audits == 1
    assert _tenant(alpha).status == Tenant.Status.PAST_DUE


def test_the_same_event_twice_at_once_is_applied_once(committed_tenant, settings):
    tenant = committed_tenant("billing-race")
    public = Tenant.objects.get(schema_name=get_public_schema_name())
    body = fake.event(
        "customer.subscription.created",
        fake.subscription(sub_id="sub_race", customer="cus_race", status="past_due"),
    )
    start = threading.Barrier(2)

    def link():
        TenantSubscription.objects.filter(tenant=tenant).update(stripe_customer_id="cus_race")
        connection.close()

    def deliver():
        try:
            start.wait(timeout=10)
            return fake.post(TenantClient(public), body).json()
        finally:
            connection.close()

    try:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(link).result()
        with ThreadPoolExecutor(2) as pool:
            answers = [future.result() for future in [pool.submit(deliver) for _ in range(2)]]

        with ThreadPoolExecutor(1) as pool:
            stored, changes = pool.submit(
                lambda: (
                    StripeEvent.objects.filter(event_id=body["id"]).count(),
                    TenantAuditEntry.objects.filter(tenant=tenant, action="billing").count(),
                    connection.close(),
                )[:2]
            ).result()
        assert sorted(answer["duplicate"] for answer in answers) == [False, True]
        assert (stored, changes) == (1, 1)
    finally:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(
                lambda: (
                    StripeEvent.objects.filter(event_id=body["id"]).delete(),
                    connection.close(),
                )
            ).result()


def _state(tenant):
    subscription, row = _subscription(tenant), _tenant(tenant)
    return (
        subscription.plan,
        subscription.status,
        subscription.billing_cycle,
        subscription.current_period_end,
        subscription.cancel_at_period_end,
        row.plan,
        row.status,
        row.max_assets,
    )


def test_updated_before_created_ends_as_in_order(alpha, beta, public_client):
    _link(alpha, "cus_alpha")
    _link(beta, "cus_beta")
    now = int(time.time())

    def events(customer, sub_id):
        created = fake.event(
            "customer.subscription.created",
            fake.subscription(sub_id=sub_id, customer=customer, status="incomplete"),
            created=now - 10,
        )
        updated = fake.event(
            "customer.subscription.updated",
            fake.subscription(sub_id=sub_id, customer=customer, plan="premium", cycle="annual"),
            created=now - 5,
        )
        return created, updated

    created, updated = events("cus_alpha", "sub_alpha")
    for body in (created, updated):
        assert fake.post(public_client, body).status_code == 200
    created, updated = events("cus_beta", "sub_beta")
    for body in (updated, created):
        assert fake.post(public_client, body).status_code == 200

    assert _state(alpha)[1:] == _state(beta)[1:]
    assert _state(beta)[:3] == ("premium", "active", "annual")
    assert _tenant(beta).plan == "premium"


def test_an_event_for_an_unknown_customer_is_stored_and_changes_nothing(alpha, public_client):
    before = _state(alpha)
    body = _created_event("cus_nobody", plan="premium")

    response = fake.post(public_client, body)

    assert response.status_code == 200
    with schema_context(get_public_schema_name()):
        stored = StripeEvent.objects.get(event_id=body["id"])
    assert (stored.tenant, stored.outcome) == (None, "unknown customer: nothing changed")
    assert _state(alpha) == before


def test_an_event_for_tenant_a_never_changes_tenant_b(alpha, beta, public_client):
    _link(alpha, "cus_alpha")
    _link(beta, "cus_beta")
    beta_before = _state(beta)

    for kind, status in [
        ("customer.subscription.created", "active"),
        ("customer.subscription.deleted", "canceled"),
    ]:
        fake.post(
            public_client,
            fake.event(
                kind,
                fake.subscription(
                    sub_id="sub_alpha", customer="cus_alpha", status=status, plan="premium"
                ),
            ),
        )

    assert _state(alpha)[1] == "cancelled"
    assert _tenant(alpha).status == Tenant.Status.CANCELLED
    assert _state(beta) == beta_before


@responses.activate
def test_an_invoice_event_refetches_the_subscription(alpha, public_client):
    _link(alpha, "cus_alpha")
    now = int(time.time())
    fake.post(
        public_client,
        fake.event(
            "customer.subscription.created",
            fake.subscription(
                sub_id="sub_alpha", customer="cus_alpha", status="past_due", period_start=_today()
            ),
            created=now - 60,
        ),
    )
    assert _tenant(alpha).status == Tenant.Status.PAST_DUE

    paid = fake.post(
        public_client,
        fake.event("invoice.paid", fake.invoice(customer="cus_alpha", sub_id="sub_alpha")),
    )
    assert paid.json()["outcome"] == "subscription re-fetched"
    responses.get(
        f"{fake.API}/subscriptions/sub_alpha",
        json=fake.subscription(
            sub_id="sub_alpha", customer="cus_alpha", status="active", period_start=_today()
        ),
    )
    stripe_subscription_refresh.apply(args=["sub_alpha"])

    assert _tenant(alpha).status == Tenant.Status.ACTIVE
    assert _subscription(alpha).status == "active"
