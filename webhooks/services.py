"""
Outgoing webhooks: the writes of the tenant's admins (endpoints, replays).

The web UI and the API both come here, so the rules (who may manage
endpoints, the plan gate, which URLs are allowed) hold everywhere. Turning
request events into deliveries is in ``events.py``, sending them in
``delivery.py`` (through the task in ``tasks.py``), the URL rules in
``url_safety.py`` and the signature in ``signing.py``. See docs/webhooks.md
for what a receiver sees.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import Action
from audit.services import audit_record, changes_between
from billing import limits
from billing.plans import Feature
from requests_app.events import EventKind
from tenants.selectors import current_tenant
from webhooks.models import WebhookDelivery, WebhookEndpoint, secret_generate
from webhooks.tasks import delivery_enqueue
from webhooks.url_safety import endpoint_url_validate

# Who may manage webhooks: holders of the app's own permission (the built-in
# Admin role has "webhooks.*"; custom roles may be given it).
MANAGE_PERMISSION = "webhooks.change_webhookendpoint"


# --- Who may, and the plan gate ----------------------------------------------


def webhook_may_manage(user) -> bool:
    """Whether ``user`` may manage the tenant's webhooks and see their secrets."""
    # has_perm() is False for inactive and anonymous users.
    return bool(user and user.has_perm(MANAGE_PERMISSION))


def _require_manager(by) -> None:
    if not webhook_may_manage(by):
        raise PermissionDenied(_("Only administrators can manage webhooks."))
    limits.require_feature(current_tenant(), Feature.WEBHOOKS)


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
    audit_record(
        action=Action.WEBHOOK_CREATED,
        target=endpoint,
        actor=by,
        changes=changes_between({}, _audited(endpoint)),
    )
    return endpoint


def _audited(endpoint: WebhookEndpoint) -> dict:
    """What the audit log shows of an endpoint (never its secret)."""
    return {field: getattr(endpoint, field) for field in ENDPOINT_FIELDS}


@transaction.atomic
def endpoint_update(*, endpoint: WebhookEndpoint, by, **changes) -> WebhookEndpoint:
    unknown = set(changes) - set(ENDPOINT_FIELDS)
    if unknown:
        raise TypeError(f"endpoint_update() cannot change {sorted(unknown)}.")
    _require_manager(by)
    before = _audited(endpoint)
    for field, value in changes.items():
        setattr(endpoint, field, list(value) if field == "events" else value)
    _endpoint_clean(endpoint)
    endpoint.save()
    diff = changes_between(before, _audited(endpoint))
    if diff:
        audit_record(action=Action.WEBHOOK_CHANGED, target=endpoint, actor=by, changes=diff)
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint, by) -> None:
    """Delete the endpoint and its delivery log; deliveries still queued are dropped."""
    _require_manager(by)
    audit_record(
        action=Action.WEBHOOK_DELETED,
        target=endpoint,
        actor=by,
        changes=changes_between(_audited(endpoint), {}),
    )
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
    audit_record(
        action=Action.WEBHOOK_CHANGED,
        target=endpoint,
        actor=by,
        changes={"secret": ["…", "rotated"]},
    )
    return endpoint


# --- Replay ------------------------------------------------------------------------


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
    delivery_enqueue(delivery=replay)
    return replay
