"""
Stripe for the billing tests: objects built from Stripe's own samples
(stripe-mock's fixtures3.json, read from ``STRIPE_FIXTURES`` or the shared
folder), webhook bodies signed with the real scheme, and the endpoint's URL.
"""

import copy
import hashlib
import hmac
import json
import os
import time
import uuid
from functools import cache
from pathlib import Path

WEBHOOK_SECRET = "whsec_test_billing_current"
OLD_WEBHOOK_SECRET = "whsec_test_billing_previous"
SECRET_KEY = "sk_test_billing"
WEBHOOK_PATH = "/billing/stripe/webhook/"
API = "https://api.stripe.com/v1"

FIXTURES = Path(os.environ.get("STRIPE_FIXTURES", "/work/shared/stripe/fixtures3.json"))


@cache
def _resources() -> dict:
    return json.loads(FIXTURES.read_text())["resources"]


def sample(kind: str) -> dict:
    """A fresh copy of Stripe's sample object of ``kind`` (e.g. "subscription")."""
    return copy.deepcopy(_resources()[kind])


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:14]}"


def price(plan="basic", cycle="monthly", amount=None) -> dict:
    """A price of our catalogue as Stripe returns it (billing_sync_plans made it)."""
    obj = sample("price")
    monthly = {"basic": 2900, "premium": 9900}[plan]
    obj.update(
        id=f"price_{plan}_{cycle}",
        lookup_key=f"{plan}_{cycle}",
        unit_amount=amount if amount is not None else monthly * (10 if cycle == "annual" else 1),
        currency="usd",
        active=True,
        product=f"smartmaintenance_{plan}",
        metadata={"plan": plan, "cycle": cycle},
        recurring={
            **(obj.get("recurring") or {}),
            "interval": "year" if cycle == "annual" else "month",
        },
        type="recurring",
    )
    return obj


def subscription(
    *,
    sub_id,
    customer,
    status="active",
    plan="basic",
    cycle="monthly",
    created=1_780_000_000,
    period_start=1_780_000_000,
    period_end=None,
    cancel_at_period_end=False,
    canceled_at=None,
    trial_end=None,
) -> dict:
    """Stripe's sample subscription, made to say what a test needs."""
    obj = sample("subscription")
    period_end = period_end or period_start + (365 if cycle == "annual" else 30) * 86400
    item = obj["items"]["data"][0]
    item.update(
        id=f"si_{sub_id}",
        subscription=sub_id,
        price=price(plan, cycle),
        current_period_start=period_start,
        current_period_end=period_end,
    )
    obj.update(
        id=sub_id,
        customer=customer,
        status=status,
        created=created,
        current_period_start=period_start,
        current_period_end=period_end,
        cancel_at_period_end=cancel_at_period_end,
        cancel_at=period_end if cancel_at_period_end else None,
        canceled_at=canceled_at,
        ended_at=canceled_at if status == "canceled" else None,
        trial_start=created if trial_end else None,
        trial_end=trial_end,
        metadata={},
        default_payment_method=None,
        latest_invoice=None,
    )
    return obj


def invoice(*, customer, sub_id, status="paid", created=1_780_000_000) -> dict:
    obj = sample("invoice")
    obj.update(
        id=new_id("in"),
        customer=customer,
        subscription=sub_id,
        status=status,
        created=created,
        hosted_invoice_url="https://invoice.stripe.com/i/test",
    )
    return obj


def checkout_session(*, customer, sub_id, tenant_id) -> dict:
    obj = sample("checkout.session")
    obj.update(
        id=new_id("cs"),
        customer=customer,
        subscription=sub_id,
        client_reference_id=str(tenant_id),
        mode="subscription",
        status="complete",
        payment_status="paid",
    )
    return obj


def event(kind: str, obj: dict, *, created=None, event_id=None) -> dict:
    """A webhook event of ``kind`` carrying ``obj``, shaped like Stripe's sample event."""
    body = sample("event")
    body.update(
        id=event_id or new_id("evt"),
        type=kind,
        created=created if created is not None else int(time.time()),
        data={"object": obj},
        livemode=False,
        api_version="2026-08-26.dahlia",
    )
    return body


def sign(payload: str, *, secret=WEBHOOK_SECRET, timestamp=None) -> str:
    """A Stripe-Signature header for ``payload``: Stripe's v1 scheme (HMAC-SHA256 of t.payload)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(
        secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def post(client, body: dict, *, secret=WEBHOOK_SECRET, timestamp=None, header=None):
    """POST ``body`` to the webhook endpoint through ``client`` (the main domain's)."""
    payload = json.dumps(body)
    signature = header if header is not None else sign(payload, secret=secret, timestamp=timestamp)
    return client.post(
        WEBHOOK_PATH,
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )


def configure(settings, *, secrets=(WEBHOOK_SECRET,)):
    """Billing with test keys and webhook secrets, through pytest-django's ``settings``."""
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRETS = list(secrets)
    settings.STRIPE_WEBHOOK_TOLERANCE = 300


def mock_checkout(rsps, *, customer="cus_new", url="https://checkout.stripe.com/c/pay/cs_test_1"):
    """Stripe's side of a Checkout: the customer, the price by lookup key, the session."""
    obj = sample("customer")
    obj.update(id=customer, metadata={})
    rsps.post(f"{API}/customers", json=obj)
    mock_prices(rsps)
    session = sample("checkout.session")
    session.update(id=new_id("cs"), url=url, customer=customer)
    return rsps.post(f"{API}/checkout/sessions", json=session)


def mock_prices(rsps, plan="basic", cycle="monthly"):
    return rsps.get(
        f"{API}/prices",
        json={
            "object": "list",
            "data": [price(plan, cycle)],
            "has_more": False,
            "url": "/v1/prices",
        },
    )


def mock_portal(rsps, *, url="https://billing.stripe.com/p/session/test_1"):
    session = sample("billing_portal.session")
    session.update(url=url)
    return rsps.post(f"{API}/billing_portal/sessions", json=session)
