"""
A subscription's whole life through webhooks: in order with time moving on
(dunning: banner, e-mails, suspension at the grace period's end, restored by
a payment), and shuffled: any order of the same events ends in one state.
"""

import datetime as dt
import random
import time

import billing_stripe as fake
import pytest
import time_machine
from django.core import mail
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from accounts.roles import BuiltinRole
from billing.models import TenantSubscription
from billing.subscriptions import subscription_dunning_check
from tenants.models import Tenant
from tenants.services import TRIAL_GRACE_PERIOD, tenants_suspend_expired_trials
from tests.conftest import TenantClient

pytestmark = pytest.mark.django_db

DAY = 86400


@pytest.fixture(autouse=True)
def _billing(settings):
    fake.configure(settings)
    settings.BILLING_GRACE_DAYS = 7


def _link(tenant, customer):
    with schema_context(get_public_schema_name()):
        TenantSubscription.objects.filter(tenant=tenant).update(stripe_customer_id=customer)


def _final(tenant):
    with schema_context(get_public_schema_name()):
        subscription = TenantSubscription.objects.get(tenant=tenant)
        row = Tenant.objects.get(pk=tenant.pk)
    return {
        "subscription": {
            field: getattr(subscription, field)
            for field in (
                "plan", "status", "billing_cycle", "price", "stripe_subscription_id",
                "current_period_start", "current_period_end", "cancel_at",
                "cancelled_at", "cancel_at_period_end",
            )
        },
        "tenant": {
            field: getattr(row, field)
            for field in ("plan", "status", "suspension_reason", "max_users", "max_assets",
                          "subscription_expires")
        },
    }  # fmt: skip


def lifecycle(tenant, customer, sub_id, start):
    """
    (time, event) pairs: checkout, active, a renewal whose payment fails
    (past due), paid after the grace period, cancelled at period end, deleted.
    """
    p1, p2 = start, start + 30 * DAY
    sub = dict(sub_id=sub_id, customer=customer, plan="premium", created=p1)

    def at(when, kind, obj):
        return when, fake.event(kind, obj, created=when)

    return [
        at(p1 + 1, "checkout.session.completed",
           fake.checkout_session(customer=customer, sub_id=sub_id, tenant_id=tenant.pk)),
        at(p1 + 2, "customer.subscription.created",
           fake.subscription(**sub, status="incomplete", period_start=p1)),
        at(p1 + 3, "invoice.paid", fake.invoice(customer=customer, sub_id=sub_id, created=p1)),
        at(p1 + 4, "customer.subscription.updated",
           fake.subscription(**sub, status="active", period_start=p1)),
        at(p2 + 1, "invoice.payment_failed",
           fake.invoice(customer=customer, sub_id=sub_id, status="open", created=p2)),
        at(p2 + 2, "customer.subscription.updated",
           fake.subscription(**sub, status="past_due", period_start=p2)),
        at(p2 + 9 * DAY, "invoice.paid",
           fake.invoice(customer=customer, sub_id=sub_id, created=p2)),
        at(p2 + 9 * DAY + 1, "customer.subscription.updated",
           fake.subscription(**sub, status="active", period_start=p2)),
        at(p2 + 10 * DAY, "customer.subscription.updated",
           fake.subscription(**sub, status="active", period_start=p2, cancel_at_period_end=True)),
        at(p2 + 30 * DAY, "customer.subscription.deleted",
           fake.subscription(**sub, status="canceled", period_start=p2,
                             cancel_at_period_end=True, canceled_at=p2 + 30 * DAY)),
    ]  # fmt: skip


def _status(tenant):
    with schema_context(get_public_schema_name()):
        return Tenant.objects.get(pk=tenant.pk).status


def test_the_lifecycle_in_order_with_dunning(alpha, public_client, make_people):
    with tenant_context(alpha):  # public_client put the connection in the public schema
        people = make_people(alpha, ada=BuiltinRole.ADMIN, tom=BuiltinRole.TECHNICIAN)
    with schema_context(get_public_schema_name()):
        Tenant.objects.filter(pk=alpha.pk).update(billing_email="accounts@alpha.example")
    _link(alpha, "cus_alpha")
    start = int(time.time()) - 60 * DAY
    steps = lifecycle(alpha, "cus_alpha", "sub_alpha", start)
    p2 = start + 30 * DAY
    seen = []

    def deliver(index):
        when, body = steps[index]
        with time_machine.travel(when, tick=False):
            assert fake.post(public_client, body).status_code == 200
        seen.append(_status(alpha))

    for index in range(4):
        deliver(index)
    assert seen == ["active", "active", "active", "active"]  # bought during the trial: active
    mail.outbox.clear()

    deliver(4)
    deliver(5)
    assert seen[-1] == "past_due"
    [notice] = mail.outbox
    assert sorted(notice.to) == ["accounts@alpha.example", "ada@alpha.example"]
    assert "Update your card" in notice.body
    with time_machine.travel(p2 + 3 * DAY, tick=False):
        alpha.refresh_from_db()
        technician = TenantClient(alpha)
        technician.force_login(people["tom"])
        page = technician.get("/")
    assert "The last payment failed" in page.content.decode()

    with time_machine.travel(p2 + 6 * DAY, tick=False), schema_context(alpha.schema_name):
        subscription_dunning_check(tenant=alpha)
    assert _status(alpha) == "past_due"
    with time_machine.travel(p2 + 7 * DAY + 60, tick=False), schema_context(alpha.schema_name):
        subscription_dunning_check(tenant=alpha)
    assert _status(alpha) == "suspended"
    assert mail.outbox[-1].subject.endswith("Account suspended: payment overdue")
    assert technician.get("/").status_code == 403

    deliver(6)
    deliver(7)
    assert seen[-1] == "active"  # paid: restored at once
    assert mail.outbox[-1].subject.endswith("Payment received: your account is active")
    deliver(8)
    assert seen[-1] == "active"
    assert _final(alpha)["subscription"]["cancel_at_period_end"] is True
    deliver(9)
    assert seen[-1] == "cancelled"
    final = _final(alpha)
    assert final["subscription"]["status"] == "cancelled"
    assert final["tenant"]["plan"] == "premium"


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_a_shuffled_lifecycle_ends_in_the_same_state(alpha, beta, public_client, seed):
    start = int(time.time()) - 60 * DAY
    _link(alpha, "cus_alpha")
    _link(beta, "cus_beta")
    in_order = [body for _when, body in lifecycle(alpha, "cus_alpha", "sub_alpha", start)]
    shuffled = [body for _when, body in lifecycle(beta, "cus_beta", "sub_beta", start)]
    random.Random(seed).shuffle(shuffled)  # noqa: S311 (a test order, not a secret)
    # The dunning job runs somewhere in between, as it would every hour.
    check_at = random.Random(seed).randrange(len(shuffled))  # noqa: S311

    for body in in_order:
        fake.post(public_client, body)
    for index, body in enumerate(shuffled):
        if index == check_at:
            with schema_context(beta.schema_name):
                subscription_dunning_check(tenant=beta)
        assert fake.post(public_client, body).status_code == 200

    alpha_final, beta_final = _final(alpha), _final(beta)
    alpha_final["subscription"].pop("stripe_subscription_id")
    beta_final["subscription"].pop("stripe_subscription_id")
    assert alpha_final == beta_final
    assert beta_final["tenant"]["status"] == "cancelled"


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_a_shuffled_lifecycle_up_to_the_payment_ends_active(alpha, beta, public_client, seed):
    """Without the cancellation the last word is the payment after the grace: active."""
    start = int(time.time()) - 60 * DAY
    _link(alpha, "cus_alpha")
    _link(beta, "cus_beta")
    in_order = [body for _when, body in lifecycle(alpha, "cus_alpha", "sub_alpha", start)[:8]]
    shuffled = [body for _when, body in lifecycle(beta, "cus_beta", "sub_beta", start)[:8]]
    random.Random(seed).shuffle(shuffled)  # noqa: S311 (a test order, not a secret)

    for body in in_order:
        fake.post(public_client, body)
    for body in shuffled:
        fake.post(public_client, body)
        with schema_context(beta.schema_name):
            subscription_dunning_check(tenant=beta)

    alpha_final, beta_final = _final(alpha), _final(beta)
    alpha_final["subscription"].pop("stripe_subscription_id")
    beta_final["subscription"].pop("stripe_subscription_id")
    assert alpha_final == beta_final
    assert (beta_final["tenant"]["status"], beta_final["tenant"]["plan"]) == ("active", "premium")
    assert beta_final["tenant"]["max_users"] == 50


def test_a_trial_ends_when_a_subscription_is_bought(make_tenant, public_client):
    tenant = make_tenant("trialco", plan="basic")
    assert tenant.status == "trial"
    _link(tenant, "cus_trial")

    fake.post(
        public_client,
        fake.event(
            "customer.subscription.created",
            fake.subscription(sub_id="sub_trial", customer="cus_trial", plan="premium"),
        ),
    )

    with schema_context(get_public_schema_name()):
        tenant.refresh_from_db()
    assert (tenant.status, tenant.plan, tenant.max_assets) == ("active", "premium", 1000)
    assert tenant.subscription_expires is not None


def test_a_trial_without_subscription_follows_the_trial_policy(make_tenant):
    tenant = make_tenant("lapsed", plan="basic")
    ended = tenant.trial_ends + TRIAL_GRACE_PERIOD + dt.timedelta(minutes=1)
    with schema_context(get_public_schema_name()):
        with time_machine.travel(tenant.trial_ends + dt.timedelta(hours=1), tick=False):
            tenant.refresh_from_db()
            assert tenant.is_read_only
            subscription_dunning_check(tenant=tenant)  # no Stripe subscription: trial rules
        assert Tenant.objects.get(pk=tenant.pk).status == "trial"
        with time_machine.travel(ended, tick=False):
            tenants_suspend_expired_trials()
        tenant.refresh_from_db()
    assert tenant.status == "suspended"
    assert TenantSubscription.objects.get(tenant=tenant).status == "trialing"
