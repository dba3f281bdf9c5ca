"""
Stripe's webhook events: verified, recorded once by id, applied.

``event_verify`` checks Stripe's signature against every secret in
``STRIPE_WEBHOOK_SECRETS`` (so a rotation never drops events) and the
timestamp's age both ways. ``event_receive`` records the event under a unique
constraint and applies it in the same transaction: a redelivery, even one
arriving at the same moment on another connection, waits for the first and
then finds the id taken. Applying is quick database work; calls back to
Stripe (re-fetching a subscription) go to a Celery task after commit.
"""

import json
import logging
import time
from datetime import UTC, datetime

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django_tenants.utils import get_public_schema_name, schema_context

from billing.models import StripeEvent, TenantSubscription
from billing.notices import notice_send
from billing.stripe_data import customer_of
from billing.subscriptions import subscription_apply_stripe

logger = logging.getLogger(__name__)

SUBSCRIPTION_EVENTS = {
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.resumed",
}
# Invoice events carry the subscription's id, not its state: re-fetch it.
INVOICE_EVENTS = {"invoice.paid", "invoice.payment_failed", "invoice.payment_action_required"}


class SignatureInvalid(Exception):
    """The body is not signed by Stripe with one of our secrets, or not recently."""


def _timestamp(header: str) -> int:
    for part in header.split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    raise SignatureInvalid("No timestamp in the Stripe-Signature header.")


def event_verify(payload: bytes, header: str | None) -> dict:
    """The event in ``payload`` if Stripe signed it; SignatureInvalid otherwise."""
    if not header or not settings.STRIPE_WEBHOOK_SECRETS:
        raise SignatureInvalid("Missing signature, or no webhook secret configured.")
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE
    # stripe-python refuses old timestamps only; a future one is as suspect.
    if _timestamp(header) > time.time() + tolerance:
        raise SignatureInvalid("The signature's timestamp is in the future.")
    text = payload.decode("utf-8")
    for secret in settings.STRIPE_WEBHOOK_SECRETS:
        try:
            stripe.WebhookSignature.verify_header(text, header, secret, tolerance)
        except stripe.SignatureVerificationError:
            continue
        event = json.loads(text)
        if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
            raise SignatureInvalid("Not a Stripe event.")
        return event
    raise SignatureInvalid("No webhook secret matches the signature.")


def _subscription_by_customer(customer_id: str):
    if not customer_id:
        return None
    return (
        TenantSubscription.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .filter(stripe_customer_id=customer_id)
        .order_by("pk")
        .first()
    )


def event_receive(event: dict) -> tuple[StripeEvent | None, dict]:
    """
    Record and apply a verified event. Returns the record (None for a
    redelivery, which changes nothing) and what to fetch from Stripe once the
    transaction commits: ``{"subscription_ids": [...], "invoice_ids": [...]}``.
    """
    with schema_context(get_public_schema_name()), transaction.atomic():
        try:
            with transaction.atomic():
                # A concurrent delivery of the same id waits here until the
                # first commits, then fails: the unique constraint decides.
                record = StripeEvent.objects.create(
                    event_id=event["id"],
                    type=event["type"],
                    created=datetime.fromtimestamp(event.get("created") or 0, tz=UTC),
                    livemode=bool(event.get("livemode")),
                    data=event.get("data") or {},
                )
        except IntegrityError:
            return None, {}
        refetch = _apply(record, event)
        record.save(update_fields=["tenant", "outcome"])
    return record, refetch


def _apply(record: StripeEvent, event: dict) -> dict:
    obj = (event.get("data") or {}).get("object") or {}
    kind = event["type"]
    subscription = _subscription_by_customer(customer_of(obj))
    if subscription is None and kind == "checkout.session.completed":
        subscription = _link_checkout_customer(obj)
    if subscription is None:
        record.outcome = "unknown customer: nothing changed"
        return {}
    record.tenant = subscription.tenant
    if kind in SUBSCRIPTION_EVENTS:
        applied = subscription_apply_stripe(
            subscription=subscription,
            stripe_subscription=obj,
            event_created=int(event.get("created") or 0),
            event_id=event["id"],
        )
        record.outcome = "applied" if applied else "older than the state held: ignored"
        return {}
    if kind == "customer.subscription.trial_will_end":
        _notice_trial_ending(subscription, obj)
        record.outcome = "trial ending: admins told"
        return {}
    if kind == "checkout.session.completed":
        record.outcome = "checkout completed"
        subscription_id = obj.get("subscription")
        return {"subscription_ids": [subscription_id] if isinstance(subscription_id, str) else []}
    if kind in INVOICE_EVENTS:
        if kind == "invoice.payment_action_required":
            _notice_action_required(subscription, obj)
        record.outcome = "subscription re-fetched"
        subscription_id = _subscription_of_invoice(obj)
        return {
            "subscription_ids": [subscription_id] if subscription_id else [],
            "invoice_ids": [obj["id"]] if obj.get("id") else [],
        }
    record.outcome = "not handled"
    return {}


def _link_checkout_customer(session: dict):
    """
    A Checkout session whose customer Stripe made (not customer_ensure): the
    tenant is the session's client_reference_id, which we set and Stripe signs.
    Only a tenant without a customer yet is linked.
    """
    reference, customer = session.get("client_reference_id") or "", customer_of(session)
    if not reference.isdigit() or not customer:
        return None
    subscription = (
        TenantSubscription.objects.select_for_update(of=("self",))
        .select_related("tenant")
        .filter(tenant_id=int(reference), stripe_customer_id="")
        .order_by("pk")
        .first()
    )
    if subscription is not None:
        subscription.stripe_customer_id = customer
        subscription.save(update_fields=["stripe_customer_id", "updated"])
    return subscription


def _subscription_of_invoice(invoice: dict) -> str:
    # Since Stripe's 2025 API versions the subscription is under parent.
    parent = (invoice.get("parent") or {}).get("subscription_details") or {}
    subscription = invoice.get("subscription") or parent.get("subscription") or ""
    return subscription.get("id", "") if isinstance(subscription, dict) else subscription


def _notice_trial_ending(subscription: TenantSubscription, stripe_subscription: dict) -> None:
    end = stripe_subscription.get("trial_end")
    day = datetime.fromtimestamp(end, tz=UTC).date() if end else "soon"
    notice_send(
        subscription.tenant,
        subject="Your trial ends soon",
        body=f"The trial ends on {day}. Add a card to keep your plan after that.",
    )


def _notice_action_required(subscription: TenantSubscription, invoice: dict) -> None:
    link = invoice.get("hosted_invoice_url") or ""
    notice_send(
        subscription.tenant,
        subject="Please confirm your payment",
        body=f"Your bank asks you to confirm the payment of your subscription. {link}".strip(),
    )


def subscription_refetched(stripe_subscription: dict, *, fetched_at: int) -> bool:
    """
    Apply a subscription just fetched from Stripe: it is the state at
    ``fetched_at``, later than any event sent before, so it sorts after them.
    """
    with schema_context(get_public_schema_name()), transaction.atomic():
        subscription = _subscription_by_customer(customer_of(stripe_subscription))
        if subscription is None:
            return False
        return subscription_apply_stripe(
            subscription=subscription,
            stripe_subscription=stripe_subscription,
            event_created=fetched_at,
            event_id=f"~fetched-{time.time_ns():020d}",
        )
