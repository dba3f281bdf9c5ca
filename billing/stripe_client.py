"""
The Stripe API client, and whether billing is configured at all. Every call
to Stripe goes through ``client()``; without a secret key there is none, and
billing runs in "not configured" mode (docs/billing.md).
"""

import stripe
from django.conf import settings
from django.core.exceptions import ValidationError

# A hung Stripe call must not hold a web worker: fail and let the user retry.
TIMEOUT_SECONDS = 10


def billing_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def client() -> stripe.StripeClient:
    if not billing_configured():
        raise ValidationError("Billing is not configured.", code="billing_not_configured")
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        max_network_retries=1,
    )


def as_dict(stripe_object) -> dict:
    """A Stripe object as plain JSON-like data, the shape webhook events carry."""
    return stripe_object.to_dict() if hasattr(stripe_object, "to_dict") else dict(stripe_object)
