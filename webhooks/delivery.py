"""
Sending webhook deliveries: one attempt at a time, each recorded on the
delivery with the answer, and the backoff before the next. The Celery task
(webhooks.tasks) calls this; nothing here queues anything.
"""

import json
import logging
from datetime import timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing import limits
from billing.plans import Feature
from tenants.selectors import current_tenant
from webhooks.models import WebhookDelivery
from webhooks.signing import SIGNATURE_HEADER, signature_header
from webhooks.transport import pinned_session
from webhooks.url_safety import UnsafeURL, url_resolve

logger = logging.getLogger(__name__)

EVENT_HEADER = "X-SmartMaintenance-Event"
DELIVERY_HEADER = "X-SmartMaintenance-Delivery"

# Seconds to wait after the n-th failed attempt (n = 1…5); the 6th failure gives up.
# About 8.5 hours in all: a receiver down for a night's deploy still gets everything.
RETRY_DELAYS = (60, 5 * 60, 30 * 60, 2 * 3600, 6 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
RESPONSE_EXCERPT_BYTES = 1000
ERROR_MAX_CHARS = 500
USER_AGENT = "SmartMaintenance-Webhooks/1"


def _body_bytes(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _excerpt(response) -> str:
    try:
        chunk = next(response.iter_content(RESPONSE_EXCERPT_BYTES), b"")
    except requests.RequestException:
        chunk = b""
    finally:
        response.close()
    return (chunk or b"").decode("utf-8", errors="replace")


def _post(delivery: WebhookDelivery) -> tuple[int | None, str, str]:
    """One HTTP attempt: (response code, body excerpt, error)."""
    endpoint = delivery.endpoint
    body = _body_bytes(delivery.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature_header(endpoint.secret, body),
        EVENT_HEADER: delivery.event_kind,
        DELIVERY_HEADER: str(delivery.pk),
    }
    try:
        address = url_resolve(endpoint.url)
        # No redirects: a redirect to an internal address would get round the check.
        with pinned_session(address) as session:
            response = session.post(
                endpoint.url,
                data=body,
                headers=headers,
                timeout=settings.WEBHOOKS_TIMEOUT_SECONDS,
                allow_redirects=False,
                stream=True,
                verify=settings.WEBHOOKS_CA_BUNDLE or True,
            )
            return response.status_code, _excerpt(response), ""
    except UnsafeURL as error:
        return None, "", str(error.args[0])
    except requests.RequestException as error:
        return None, "", f"{type(error).__name__}: {error}"[:ERROR_MAX_CHARS]


def delivery_attempt(*, delivery_id, now=None, expected_attempts: int | None = None) -> int | None:
    """
    Make the next attempt of a delivery that is due, and record the answer.
    Returns the seconds to wait before the next attempt, or None when there is
    none (delivered, given up, or not ours to send).

    The row stays locked during the request (at most the timeout), so two
    workers given the same delivery never both send it; the second skips it.
    ``expected_attempts`` (the count when the task was queued) makes a
    duplicate message harmless: Redis hands an ETA task out again after its
    visibility timeout, and by then the first copy has made the attempt.
    """
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(
                pk=delivery_id,
                status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING],
            )
            .first()
        )
        if delivery is None:
            return None
        if expected_attempts is not None and delivery.attempts != expected_attempts:
            return None
        if not delivery.endpoint.is_active or not limits.has_feature(
            current_tenant(), Feature.WEBHOOKS
        ):
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
            delivery.last_error = str(_("Not sent: the endpoint is inactive or webhooks are off."))
            delivery.save()
            return None

        code, excerpt, error = _post(delivery)
        now = now or timezone.now()
        delivery.attempts += 1
        delivery.last_response_code = code
        delivery.last_response_body = excerpt
        delivery.last_error = error or ("" if code and 200 <= code < 300 else f"HTTP {code}")
        countdown = None
        if code is not None and 200 <= code < 300:
            delivery.status = WebhookDelivery.Status.SUCCEEDED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
        else:
            countdown = RETRY_DELAYS[delivery.attempts - 1]
            delivery.status = WebhookDelivery.Status.RETRYING
            delivery.next_attempt_at = now + timedelta(seconds=countdown)
        delivery.save()
    log = logger.info if delivery.status == WebhookDelivery.Status.SUCCEEDED else logger.warning
    log(
        "Webhook delivery %s attempt %d to endpoint %s: %s %s",
        delivery.pk,
        delivery.attempts,
        delivery.endpoint_id,
        code,
        delivery.status,
    )
    return countdown
