"""
Outgoing webhooks: managing endpoints, turning request events into signed
deliveries, sending them with retries, and replaying them.

The web UI, the API and the Celery task all come here, so the rules (who may
manage endpoints, the plan gate, which URLs are allowed) hold everywhere.
See docs/webhooks.md for what a receiver sees.
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tenants.utils import get_public_schema_name

from billing import limits
from billing.plans import Feature
from requests_app.events import EventKind
from tenants.selectors import current_tenant
from webhooks.models import WebhookDelivery, WebhookEndpoint, secret_generate

logger = logging.getLogger(__name__)

# Who may manage webhooks: holders of the app's own permission (the built-in
# Admin role has "webhooks.*"; custom roles may be given it).
MANAGE_PERMISSION = "webhooks.change_webhookendpoint"

SIGNATURE_HEADER = "X-SmartMaintenance-Signature"
EVENT_HEADER = "X-SmartMaintenance-Event"
DELIVERY_HEADER = "X-SmartMaintenance-Delivery"
SIGNATURE_TOLERANCE_SECONDS = 300

# Seconds to wait after the n-th failed attempt (n = 1…5); the 6th failure gives up.
# About 8.5 hours in all: a receiver down for a night's deploy still gets everything.
RETRY_DELAYS = (60, 5 * 60, 30 * 60, 2 * 3600, 6 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
RESPONSE_EXCERPT_BYTES = 1000
ERROR_MAX_CHARS = 500
USER_AGENT = "SmartMaintenance-Webhooks/1"


# --- Who may, and the plan gate ----------------------------------------------


def webhook_may_manage(user) -> bool:
    """Whether ``user`` may manage the tenant's webhooks and see their secrets."""
    # has_perm() is False for inactive and anonymous users.
    return bool(user and user.has_perm(MANAGE_PERMISSION))


def _require_manager(by) -> None:
    if not webhook_may_manage(by):
        raise PermissionDenied(_("Only administrators can manage webhooks."))
    limits.require_feature(current_tenant(), Feature.WEBHOOKS)


# --- URLs: refuse what would let a tenant reach our own network (SSRF) ------------

BLOCKED_HOST_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain")


class UnsafeURL(ValueError):
    pass


def _address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _resolved_addresses(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


def url_check(url: str, *, resolve: bool) -> None:
    """
    Raise UnsafeURL unless ``url`` may receive webhooks: https (http only when
    WEBHOOKS_ALLOW_HTTP), no credentials, and - unless
    WEBHOOKS_ALLOW_PRIVATE_ADDRESSES - a host that neither is nor (with
    ``resolve``) resolves to a private, loopback, link-local or reserved
    address. Checked when the endpoint is saved (without resolving: a name
    may not resolve yet) and again before every send (resolving, so that a
    name re-pointed at an internal address later is caught).
    """
    parts = urlsplit(url)
    allowed_schemes = ("https", "http") if settings.WEBHOOKS_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed_schemes:
        raise UnsafeURL(_("The URL must start with https://."))
    if not parts.hostname:
        raise UnsafeURL(_("The URL has no host."))
    if parts.username or parts.password:
        raise UnsafeURL(_("Put no user name or password in the URL; verify the signature instead."))
    if settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        return
    host = parts.hostname.rstrip(".").lower()
    if host == "localhost" or host.endswith(BLOCKED_HOST_SUFFIXES):
        raise UnsafeURL(_("The URL must point to a public internet address."))
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        if not resolve:
            return
        try:
            addresses = _resolved_addresses(host, parts.port or 443)
        except OSError as error:
            raise UnsafeURL(_("The host name could not be resolved.")) from error
    if not all(_address_is_public(address) for address in addresses):
        raise UnsafeURL(_("The URL must point to a public internet address."))


def endpoint_url_validate(url: str) -> None:
    """The save-time check, as a ValidationError on the ``url`` field."""
    try:
        url_check(url, resolve=False)
    except UnsafeURL as error:
        raise ValidationError({"url": [error.args[0]]}, code="unsafe_url") from error


# --- Endpoints -----------------------------------------------------------------

ENDPOINT_FIELDS = ("url", "description", "events", "is_active")


def _endpoint_clean(endpoint: WebhookEndpoint) -> None:
    endpoint.events = sorted(set(endpoint.events or []))
    unknown = set(endpoint.events) - set(EventKind.values)
    errors = {}
    try:
        endpoint.full_clean(exclude=["events", "created_by"])
    except ValidationError as error:
        errors.update(error.message_dict)
    if unknown:
        errors["events"] = [_("Unknown event: %s.") % ", ".join(sorted(unknown))]
    if "url" not in errors:
        try:
            endpoint_url_validate(endpoint.url)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def endpoint_create(
    *, by, url: str, description: str = "", events=(), is_active: bool = True
) -> WebhookEndpoint:
    """Register a URL for the tenant's request events; its signing secret is generated."""
    _require_manager(by)
    endpoint = WebhookEndpoint(
        url=url, description=description, events=list(events), is_active=is_active, created_by=by
    )
    _endpoint_clean(endpoint)
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_update(*, endpoint: WebhookEndpoint, by, **changes) -> WebhookEndpoint:
    unknown = set(changes) - set(ENDPOINT_FIELDS)
    if unknown:
        raise TypeError(f"endpoint_update() cannot change {sorted(unknown)}.")
    _require_manager(by)
    for field, value in changes.items():
        setattr(endpoint, field, list(value) if field == "events" else value)
    _endpoint_clean(endpoint)
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint, by) -> None:
    """Delete the endpoint and its delivery log; deliveries still queued are dropped."""
    _require_manager(by)
    endpoint.delete()


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, by) -> WebhookEndpoint:
    """
    Replace the signing secret at once. Deliveries sent from now on (retries
    of older ones included) are signed with the new secret, so the receiver
    should accept both for the few minutes its switch takes.
    """
    _require_manager(by)
    endpoint.secret = secret_generate()
    endpoint.save(update_fields=["secret"])
    return endpoint


# --- Signing ----------------------------------------------------------------------


def _signature(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={timestamp},v1={_signature(secret, timestamp, body)}"


def signature_verify(
    secret: str,
    header: str,
    body: bytes,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """
    Whether ``header`` signs ``body`` with ``secret`` within ``tolerance``
    seconds of now, either way: an old timestamp may be a replayed capture,
    a future one a forged clock. The reference implementation for receivers
    (docs/webhooks.md); ``v1`` may appear more than once.
    """
    timestamp, signatures = None, []
    for item in (header or "").split(","):
        key, _sep, value = item.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    if isinstance(body, str):
        body = body.encode()
    expected = _signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


# --- Events into deliveries ---------------------------------------------------------


def _email(user):
    return user.email if user else None


def event_payload_build(*, kind, request_id: int, data: dict, event_id, occurred_at) -> dict:
    """The JSON body of a delivery: the event, and the request as it is now."""
    from requests_app.models import MaintenanceRequest

    request = (
        MaintenanceRequest.objects.select_related("assignee", "requester", "asset", "location")
        .filter(pk=request_id)
        .first()
    )
    body = None
    if request is not None:
        body = {
            "id": request.pk,
            "number": request.number,
            "title": request.title,
            "type": request.type,
            "status": request.status,
            "priority": request.priority,
            "assignee": _email(request.assignee),
            "requester": _email(request.requester),
            "asset": {"id": request.asset_id, "name": request.asset.name}
            if request.asset
            else None,
            "location": {"id": request.location_id, "name": request.location.name}
            if request.location
            else None,
            "due_at": request.due_at,
            "created": request.created,
        }
    payload = {
        "id": str(event_id),
        "type": str(EventKind(kind).value),
        "occurred_at": occurred_at,
        "tenant": current_tenant().subdomain,
        "request": body,
        "data": data,
    }
    # Through JSON once, so the stored payload is exactly what is sent.
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


def endpoints_for(kind):
    """The active endpoints that want events of ``kind`` (no events listed: all)."""
    return WebhookEndpoint.objects.filter(is_active=True).filter(
        models.Q(events=[]) | models.Q(events__contains=[str(EventKind(kind).value)])
    )


def on_request_event(sender, kind, request_id, data, **kwargs) -> list[WebhookDelivery]:
    """
    ``request_event`` receiver: one delivery per matching active endpoint,
    each sent by its own task. Runs after the change is committed, in the
    tenant's schema, so the task sent from here carries the tenant.
    """
    if connection.schema_name == get_public_schema_name():
        return []
    if not limits.has_feature(current_tenant(), Feature.WEBHOOKS):
        return []  # endpoints outlive a downgrade; they stay silent until an upgrade
    endpoints = list(endpoints_for(kind))
    if not endpoints:
        return []
    payload = event_payload_build(
        kind=kind,
        request_id=request_id,
        data=data or {},
        event_id=uuid.uuid4(),
        occurred_at=timezone.now(),
    )
    with transaction.atomic():
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                endpoint=endpoint,
                event_kind=payload["type"],
                event_id=payload["id"],
                payload=payload,
                next_attempt_at=timezone.now(),
            )
            for endpoint in endpoints
        )
        for delivery in deliveries:
            delivery_enqueue(delivery)
    return deliveries


def delivery_enqueue(delivery: WebhookDelivery, countdown: int | None = None) -> None:
    """Send ``delivery`` from a worker once the row is committed (and the tenant with it)."""
    from webhooks.tasks import webhook_delivery_send

    def send():
        try:
            webhook_delivery_send.apply_async(
                args=[str(delivery.pk), delivery.attempts], countdown=countdown
            )
        except Exception:
            # Broker down: the row stays due and the sweep (manage.py webhooks_send_due) sends it.
            logger.exception("Could not queue webhook delivery %s", delivery.pk)

    transaction.on_commit(send)


# --- Sending ---------------------------------------------------------------------


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
        url_check(endpoint.url, resolve=True)
        # No redirects: a redirect to an internal address would get round the check.
        response = requests.post(
            endpoint.url,
            data=body,
            headers=headers,
            timeout=settings.WEBHOOKS_TIMEOUT_SECONDS,
            allow_redirects=False,
            stream=True,
        )
    except UnsafeURL as error:
        return None, "", str(error.args[0])
    except requests.RequestException as error:
        return None, "", f"{type(error).__name__}: {error}"[:ERROR_MAX_CHARS]
    return response.status_code, _excerpt(response), ""


def delivery_attempt(delivery_id, now=None, expected_attempts: int | None = None) -> int | None:
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


def deliveries_enqueue_due(now=None, grace=timedelta(minutes=5)) -> int:
    """
    Queue again the deliveries of this tenant that are overdue by ``grace``:
    their task was lost (broker down when queued, worker killed). Sending is
    idempotent per attempt, so a task that was merely late does no harm.
    """
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(
        status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING],
        next_attempt_at__lte=now - grace,
    ).only("pk", "attempts")
    count = 0
    for delivery in due:
        delivery_enqueue(delivery)
        count += 1
    return count


@transaction.atomic
def delivery_replay(*, delivery: WebhookDelivery, by) -> WebhookDelivery:
    """
    Send an event again, as a new delivery with the same payload and event id
    (the receiver can tell it is the same event) and a fresh retry budget.
    The original keeps its own log.
    """
    _require_manager(by)
    if not delivery.endpoint.is_active:
        raise ValidationError(
            _("This endpoint is inactive: activate it to replay."), code="endpoint_inactive"
        )
    replay = WebhookDelivery.objects.create(
        endpoint=delivery.endpoint,
        event_kind=delivery.event_kind,
        event_id=delivery.event_id,
        payload=delivery.payload,
        replay_of=delivery,
        next_attempt_at=timezone.now(),
    )
    delivery_enqueue(replay)
    return replay
