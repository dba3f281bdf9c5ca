"""
What the attack suite attacks and with what, generated rather than listed:

- ``api_operations(urlconf)``: every operation of that URLconf's OpenAPI
  schema (drf-spectacular, as served at /api/v1/schema/);
- ``page_routes(urlconf)``: every route of that URLconf, walked through its
  resolvers, with the converters of its parameters;
- ``seed(tenant)``: one object of every kind in a tenant, each carrying
  ``MARKER`` in a text field, so that any of them shown anywhere it must not
  be is found by searching the answer for the marker.

Parameters are filled by the path segment before them (``/assets/{id}/``
takes the asset's id, ``/requests/<int:pk>/`` the request's), so a new
endpoint under an existing collection needs nothing here.
"""

import re
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from accounts.api_keys import api_key_create
from accounts.roles import BuiltinRole
from accounts.services import role_create, roles_provision_defaults, user_create
from assets.services import asset_create, location_create
from attachments.services import attachment_create
from preventive.services import schedule_create
from requests_app.services import request_comment_create, request_create
from webhooks.models import WebhookDelivery
from webhooks.services import endpoint_create

# Found in every seeded object's text; never in another tenant's answers.
MARKER = "zq7alphaonly"
METHODS = ("get", "post", "put", "patch", "delete")
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


@dataclass
class Operation:
    method: str
    path: str  # as in the schema: /api/v1/assets/{id}/
    spec: dict = field(repr=False)

    def __str__(self):
        return f"{self.method.upper()} {self.path}"


def api_schema(urlconf: str) -> dict:
    return SchemaGenerator(urlconf=urlconf).get_schema(public=True)


def api_operations(urlconf: str) -> list[Operation]:
    document = api_schema(urlconf)
    return [
        Operation(method, path, spec)
        for path, methods in document["paths"].items()
        for method, spec in methods.items()
        if method in METHODS
    ]


@dataclass
class Route:
    template: str  # /requests/<int:pk>/edit/
    name: str | None
    converters: dict

    def __str__(self):
        return self.template


def page_routes(urlconf: str) -> list[Route]:
    """Every route of ``urlconf``, the API's included (a page is anything routed)."""
    routes = []

    def walk(patterns, prefix, converters):
        for entry in patterns:
            pattern = entry.pattern
            text = prefix + _pattern_text(pattern)
            merged = {**converters, **getattr(pattern, "converters", {})}
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, text, merged)
            elif isinstance(entry, URLPattern):
                routes.append(Route("/" + text, entry.name, merged))

    walk(get_resolver(urlconf).url_patterns, "", {})
    return routes


def _pattern_text(pattern) -> str:
    text = str(pattern)
    if text.startswith("^"):  # A regex route: keep its literal text, named groups as <name>.
        text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", text.lstrip("^").rstrip("$"))
        text = text.replace("\\", "").replace(".*", "").replace("?", "")
    return text


def fill(template: str, ids: dict, default=1) -> str:
    """Put each parameter's id in ``template`` ({name} or <conv:name>), by the segment before it."""

    def value(match):
        before = template[: match.start()].rstrip("/").rsplit("/", 1)[-1]
        name = match.group("name")
        return str(ids.get(name, ids.get(before, default)))

    return re.sub(r"[{<](?:\w+:)?(?P<name>\w+)[}>]", value, template)


def seed(tenant) -> dict:
    """
    One object of every kind in ``tenant`` (the connection in its schema),
    each showing ``MARKER``. Returns the ids by the path segment (or
    parameter name) that names them, plus the objects themselves under
    ``"objects"``.
    """
    roles = roles_provision_defaults()
    admin = user_create(
        email=f"{MARKER}-admin@{tenant.subdomain}.example",
        password="Seed-pass-2024",
        full_name=f"Admin {MARKER}",
        roles=[roles[BuiltinRole.ADMIN]],
    )
    role = role_create(by=admin, name=f"Role {MARKER}", permissions=[])
    key, raw_key = api_key_create(by=admin, user=admin, name=f"Key {MARKER}", access="read_write")
    location = location_create(name=f"Site {MARKER}", kind="site")
    asset = asset_create(name=f"Pump {MARKER}", asset_tag=f"{MARKER}-1", location=location)
    request = request_create(title=f"Leak {MARKER}", requester=admin, asset=asset)
    comment = request_comment_create(request=request, author=admin, body=f"Note {MARKER}")
    asset_file = attachment_create(
        file=SimpleUploadedFile(f"{MARKER}.png", PNG, content_type="image/png"),
        uploaded_by=admin,
        asset=asset,
    )
    request_file = attachment_create(
        file=SimpleUploadedFile(f"{MARKER}-r.png", PNG, content_type="image/png"),
        uploaded_by=admin,
        request=request,
    )
    schedule = schedule_create(
        asset=asset,
        title=f"Service {MARKER}",
        recurrence="months",
        starts_on=timezone.localdate(),
        steps=[f"Step {MARKER}"],
    )
    endpoint = endpoint_create(
        by=admin, url=f"https://{MARKER}.example.com/hook", description=f"Hook {MARKER}"
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_kind="request.created",
        event_id="5f1c8a4e-2b7d-4f3a-9c61-8e0d2a7b4c19",
        payload={"marker": MARKER},
        next_attempt_at=timezone.now(),
    )
    return {
        "users": admin.pk,
        "roles": role.pk,
        "api-keys": key.pk,
        "locations": location.pk,
        "assets": asset.pk,
        "requests": request.pk,
        "request_pk": request.pk,
        "comments": comment.pk,
        "attachments": request_file.pk,
        "attachment_pk": asset_file.pk,
        "schedules": schedule.pk,
        "item_pk": 1,  # An occurrence's item: none exists yet, and 1 names none of beta's either.
        "webhooks": endpoint.pk,
        "webhook-deliveries": delivery.pk,
        "token": asset.report_token,
        "r": asset.report_token,
        "objects": {
            "admin": admin,
            "raw_key": raw_key,
            "asset": asset,
            "asset_file": asset_file,
            "request_file": request_file,
        },
    }
