"""
Stripe's webhook endpoint, on the main domain: ``/billing/stripe/webhook/``.
dj-stripe's own endpoint is not routed, so its DEBUG-only shortcut (an
``X-Djstripe-Webhook-Secret`` header instead of a signature) never applies.
"""

from django.db import transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.tasks import stripe_refresh_later
from billing.webhooks import SignatureInvalid, event_receive, event_verify


@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        event = event_verify(request.body, request.headers.get("Stripe-Signature"))
    except (SignatureInvalid, UnicodeDecodeError, ValueError) as error:
        return JsonResponse(
            {"code": "invalid_signature", "message": str(error) or "Invalid signature."},
            status=400,
        )
    record, refetch = event_receive(event)
    if refetch:
        transaction.on_commit(lambda: stripe_refresh_later(**refetch))
    return JsonResponse(
        {
            "received": event["id"],
            "duplicate": record is None,
            "outcome": getattr(record, "outcome", ""),
        }
    )
