"""
Every page of a tenant's web UI renders in a number of queries that does not
depend on how many rows the tenant has (issue 12's acceptance).

The pages are found in the tenant URLconf, not listed by hand: every named
URL outside the API is requested, as a tenant admin (or logged out, for the
pages of people without an account), once with a few rows of everything
(requests, assets, locations, users, comments, attachments, schedules, roles,
API keys, webhook endpoints and deliveries) and once with ten times as many,
the objects a page is about included (the request with 3, then 30 comments).
The second count must not be higher than the first.

A new URL with parameters needs an entry in PARAMS; one that takes only
POST, an entry in POST_ONLY (checked: it must answer GET with 405). When a
page grows, the failure names the engineer whose area it is (OWNERS).
"""

import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tenants.utils import get_public_schema_name, schema_context
from PIL import Image

from accounts.api_keys import api_key_create
from accounts.invitations import invitation_token_make
from accounts.roles import BuiltinRole
from accounts.services import role_create, roles_provision_defaults, user_create
from assets.models import Location
from assets.services import asset_create, location_create
from attachments.services import attachment_create
from billing.services import tenant_change_plan
from organisation.services import branding_update
from preventive.models import Recurrence
from preventive.services import schedule_create
from requests_app.models import RequestType, Status
from requests_app.services import request_comment_create, request_create, request_transition
from tenants.branding import branding_version
from webhooks.models import WebhookDelivery
from webhooks.services import endpoint_create

FEW, MANY = 3, 30

# Not pages: they answer GET with 405 (asserted, so the list stays true).
POST_ONLY = {
    "accounts:logout",
    "accounts:invitation_resend",
    "accounts:user_deactivate",
    "checklist_item_complete",
    "preventive:schedule_pause",
    "preventive:schedule_resume",
    "requests_app:bulk_assign",
    "accounts:api_key_revoke",
    "assets:attachment_upload",
    "assets:retire",
    "requests_app:transition",
    "requests_app:comment",
    "requests_app:attachment_upload",
    "requests_app:attachment_delete",
    "webhooks:rotate_secret",
    "webhooks:delivery_replay",
    "billing:checkout",
    "billing:change",
    "billing:portal",
    "billing:cancel",
    "billing:resume",
    "accounts:user_unlock",
    "two_factor:disable",
}

# Pages for people without an account (or not logged in yet): requested logged out.
ANONYMOUS = {
    "accounts:login",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
    "accounts:invitation_accept",
    "asset_report",
}

# Pages that answer a redirect to another page (measured all the same).
REDIRECTS = {
    "home": "to the dashboard, for an admin",
    "organisation:index": "to the first settings section",
    "assets:labels": "to the asset list when no asset is ticked",
    "two_factor:verify": "onwards, for a user without a second factor to give",
}

# The URL parameters of each parametrised page, from the rows of the tenant.
PARAMS = {
    "accounts:user_update": lambda rows: {"pk": rows.technician.pk},
    "accounts:invitation_resend": lambda rows: {"pk": rows.technician.pk},
    "accounts:user_deactivate": lambda rows: {"pk": rows.technician.pk},
    "accounts:user_unlock": lambda rows: {"pk": rows.technician.pk},
    "accounts:invitation_accept": lambda rows: {"token": invitation_token_make(rows.technician)},
    # A link that is not valid (any more): the page says so.
    "accounts:password_reset_confirm": lambda rows: {
        "uidb64": urlsafe_base64_encode(force_bytes(rows.admin.pk)),
        "token": "expired-link",
    },
    "accounts:role_update": lambda rows: {"pk": rows.role.pk},
    "accounts:role_delete": lambda rows: {"pk": rows.role.pk},
    "accounts:api_key_revoke": lambda rows: {"pk": rows.api_key.pk},
    "assets:detail": lambda rows: {"pk": rows.asset.pk},
    "assets:update": lambda rows: {"pk": rows.asset.pk},
    "assets:attachment_upload": lambda rows: {"pk": rows.asset.pk},
    "assets:retire": lambda rows: {"pk": rows.asset.pk},
    "assets:photo": lambda rows: {"pk": rows.asset.pk},
    "assets:qr_svg": lambda rows: {"pk": rows.asset.pk},
    "assets:qr_png": lambda rows: {"pk": rows.asset.pk},
    "assets:location_update": lambda rows: {"pk": rows.site.pk},
    "requests_app:detail": lambda rows: {"pk": rows.request.pk},
    "requests_app:edit": lambda rows: {"pk": rows.request.pk},
    "requests_app:transition": lambda rows: {"pk": rows.request.pk},
    "requests_app:comment": lambda rows: {"pk": rows.request.pk},
    "requests_app:attachment_upload": lambda rows: {"pk": rows.request.pk},
    "requests_app:attachment_download": lambda rows: {"pk": rows.attachment.pk},
    "requests_app:attachment_delete": lambda rows: {"pk": rows.attachment.pk},
    "webhooks:endpoint_detail": lambda rows: {"pk": rows.endpoint.pk},
    "webhooks:endpoint_update": lambda rows: {"pk": rows.endpoint.pk},
    "webhooks:endpoint_delete": lambda rows: {"pk": rows.endpoint.pk},
    "webhooks:rotate_secret": lambda rows: {"pk": rows.endpoint.pk},
    "webhooks:delivery_detail": lambda rows: {"pk": rows.delivery.pk},
    "webhooks:delivery_replay": lambda rows: {"pk": rows.delivery.pk},
    "asset_report": lambda rows: {"token": rows.asset.report_token},
    "preventive:schedule_detail": lambda rows: {"pk": rows.schedule.pk},
    "preventive:schedule_update": lambda rows: {"pk": rows.schedule.pk},
    "preventive:schedule_pause": lambda rows: {"pk": rows.schedule.pk},
    "preventive:schedule_resume": lambda rows: {"pk": rows.schedule.pk},
    # POST only: answered 405 before any lookup.
    "checklist_item_complete": lambda rows: {"pk": 1},
    "branding_css": lambda rows: {"version": branding_version(rows.tenant)},
    "branding_logo": lambda rows: {"version": branding_version(rows.tenant)},
}

# Whose pages they are (issue 12 was split between four engineers).
OWNERS = {
    "home": "uidash",
    "requests_app:dashboard": "uidash",
    "assets": "uidash",
    "preventive": "uidash",
    "requests_app": "uireq",
    "asset_report": "uireq",
    "checklist_item_complete": "uireq",
    "accounts": "uiacct",
    "organisation": "uiacct",
    "branding_css": "uiacct",
    "branding_logo": "uiacct",
    "webhooks": "uiacct",
    "settings": "uiacct",
}

SKIPPED_NAMESPACES = {"api"}  # the REST API: its own suite


def owner(name):
    return OWNERS.get(name) or OWNERS.get(name.split(":")[0], "unassigned")


def _named_urls(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in SKIPPED_NAMESPACES:
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _named_urls(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


TENANT_URLS = sorted(set(_named_urls(get_resolver("smartmaintenance.urls_tenant").url_patterns)))

# Pages measured to need more queries with more rows: bugs for their owners,
# kept as strict expected failures, so that the test fails again (XPASS) once
# a page is fixed and its entry must go.
GROWING = {}


def _pages():
    for name in TENANT_URLS:
        marks = []
        if name in GROWING:
            reason = f"{owner(name)}'s page grows with the rows: {GROWING[name]}"
            marks.append(pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason))
        yield pytest.param(name, marks=marks, id=name)


class Rows:
    """
    The rows of a tenant that its pages list, grown from a few to many with
    the services the pages use; the objects pages are about (``request``,
    ``asset``...) gain related rows as the rest grows.
    """

    def __init__(self, tenant):
        with schema_context(get_public_schema_name()):
            tenant_change_plan(tenant=tenant, plan="enterprise", actor="test")
        tenant.refresh_from_db()
        self.tenant = tenant
        self.roles = roles_provision_defaults()
        self.admin = self.user("admin", BuiltinRole.ADMIN)
        # Invited: no password yet, so their invitation link is valid.
        self.technician = self.user("tech", BuiltinRole.TECHNICIAN)
        branding_update(tenant=tenant, by=self.admin, primary_color="#0b5394", logo=png("logo"))
        self.site = location_create(name="Plant", kind=Location.Kind.SITE)
        self.asset = asset_create(
            name="Pump", asset_tag="P-0", location=self.site, photo=png("pump")
        )
        self.schedule = self.new_schedule(0)
        self.request = self.new_request("Tripped breaker", assignee=self.technician)
        self.attachment = self.attach(request=self.request)
        self.role = role_create(by=self.admin, name="Custom 0", permissions=[])
        self.api_key, _raw = api_key_create(by=self.admin, name="key 0")
        self.endpoint = endpoint_create(by=self.admin, url="https://hooks.example.com/0")
        self.delivery = self.deliver(self.endpoint)
        self.count = 1

    def user(self, name, role):
        email = f"{name}@rows.example"
        return user_create(email=email, password=None, roles=[self.roles[role]])

    def new_request(self, title, assignee=None):
        request = request_create(
            title=title,
            requester=self.admin,
            asset=self.asset,
            type=RequestType.ELECTRICAL,
            priority="high",
            details={"voltage": 230, "circuit": "B2"},
        )
        if assignee is not None:
            request_transition(request=request, to_status=Status.TRIAGED, by=self.admin)
            request_transition(
                request=request, to_status=Status.ASSIGNED, by=self.admin, assignee=assignee
            )
            request_transition(request=request, to_status=Status.IN_PROGRESS, by=assignee)
        return request

    def new_schedule(self, i):
        return schedule_create(
            asset=self.asset,
            title=f"Inspection {i}",
            recurrence=Recurrence.MONTHS,
            starts_on=date(2026, 1, 1),
            steps=[f"Step {i}.1", f"Step {i}.2"],
        )

    def attach(self, **owner):
        upload = SimpleUploadedFile("note.txt", b"breaker B2 tripped twice", "text/plain")
        return attachment_create(file=upload, uploaded_by=self.admin, **owner)

    def deliver(self, endpoint):
        return WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_kind="request.created",
            event_id=f"00000000-0000-0000-0000-{WebhookDelivery.objects.count():012d}",
            payload={"type": "request.created"},
            next_attempt_at=timezone.now(),
        )

    def grow(self, count):
        """Top every kind of row up to ``count``."""
        for i in range(self.count, count):
            technician = self.user(f"tech{i}", BuiltinRole.TECHNICIAN)
            self.user(f"requester{i}", BuiltinRole.REQUESTER)
            building = location_create(
                name=f"Hall {i}", kind=Location.Kind.BUILDING, parent=self.site
            )
            asset_create(name=f"Motor {i}", asset_tag=f"M-{i}", location=building)
            self.new_request(f"Request {i}", assignee=technician if i % 2 else None)
            request_comment_create(request=self.request, author=self.admin, body=f"Comment {i}")
            self.attach(request=self.request)
            self.attach(asset=self.asset)
            self.new_schedule(i)
            role_create(by=self.admin, name=f"Custom {i}", permissions=[])
            api_key_create(by=self.admin, name=f"key {i}")
            endpoint_create(by=self.admin, url=f"https://hooks.example.com/{i}")
            self.deliver(self.endpoint)
        self.count = count


def png(name):
    image = io.BytesIO()
    Image.new("RGB", (16, 16), "#0b5394").save(image, "PNG")
    return SimpleUploadedFile(f"{name}.png", image.getvalue(), "image/png")


def _queries(client, url):
    # Once first, so that both counts are of a warm process: per-process
    # caches (content types, the few seconds of host routing) filled.
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize("name", list(_pages()))
def test_every_page_renders_in_a_number_of_queries_independent_of_the_rows(
    name, alpha, alpha_client
):
    rows = Rows(alpha)
    rows.grow(FEW)
    # A new parametrised page fails here: add it to PARAMS.
    url = reverse(name, kwargs=PARAMS[name](rows) if name in PARAMS else None)
    if name not in ANONYMOUS:
        alpha_client.force_login(rows.admin)

    if name in POST_ONLY:
        assert alpha_client.get(url).status_code == 405
        return
    expected_status = 302 if name in REDIRECTS else 200
    response, few = _queries(alpha_client, url)
    assert response.status_code == expected_status, (name, response.status_code)

    rows.grow(MANY)
    response, many = _queries(alpha_client, url)
    assert response.status_code == expected_status, (name, response.status_code)
    assert len(many) <= len(few), (
        f"{name} ({owner(name)}'s page) runs {len(few)} queries with {FEW} rows of "
        f"everything and {len(many)} with {MANY}:\n" + "\n".join(many)
    )
