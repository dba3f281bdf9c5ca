"""
The attack suite (issue 15, point 6): ``beta`` attacks ``alpha`` with
everything of alpha's it could get hold of, on every route and every API
operation, generated from the URLconfs and the OpenAPI schema (see
attack_world.py and tests/security/README.md).

Alpha is seeded with one object of every kind, each showing ``MARKER``. A
leak is: the marker in an answer served to the attacker; a request
authenticated as someone the serving tenant does not have; a request served
by a tenant other than the one its Host names; a change to alpha's rows
(checksums per table before and after).
"""

import inspect
import itertools
import json
from pathlib import Path

import pytest
from attack_world import MARKER, api_operations, api_schema, fill, page_routes, seed
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.middleware.csrf import get_token
from django.test import RequestFactory
from django.urls import Resolver404, resolve
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tenants.cache import reverse_key
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from accounts.models import User
from accounts.services import user_create
from audit.models import Action, AuditEntry
from smartmaintenance.celery import app as celery_app
from smartmaintenance.tasks import PlatformTask, SchemaTask, TaskWithoutTenant, TenantTask
from tenants.exports import table_checksums
from tests.conftest import APIClient, TenantClient

TENANT_URLS = "smartmaintenance.urls_tenant"
PUBLIC_URLS = "smartmaintenance.urls_public"
TENANT_OPERATIONS = api_operations(TENANT_URLS)
TENANT_ROUTES = page_routes(TENANT_URLS)
PUBLIC_ROUTES = page_routes(PUBLIC_URLS)
# Served to anyone on any tenant host: the API's own description.
OPEN_API_PATHS = {"/api/v1/schema/", "/api/v1/docs/"}
# Request-body properties that name another object, and the collection it is in.
REFERENCES = {
    "asset": "assets",
    "location": "locations",
    "parent": "locations",
    "request": "requests",
    "assignee": "users",
    "user": "users",
    "requester": "users",
    "roles": "roles",
    "endpoint": "webhooks",
}


def _body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def _marker_shown(response) -> str | None:
    headers = " ".join(f"{k}: {v}" for k, v in response.items())
    if MARKER in headers.lower():
        return "alpha's data in a header"
    if MARKER.encode() in _body(response).lower():
        return "alpha's data in the body"
    return None


def _call(client, method, url, body=None, **extra):
    if method in {"post", "put", "patch"}:
        return getattr(client, method)(
            url, json.dumps(body or {}), content_type="application/json", **extra
        )
    return getattr(client, method)(url, **extra)


def _reference_body(operation, ids) -> dict:
    """A body naming alpha's objects in every property that refers to one."""
    properties = _request_properties(operation)
    body = {}
    for name in properties:
        if name in REFERENCES:
            value = ids[REFERENCES[name]]
            body[name] = [value] if name == "roles" else value
    return body


def _components(document):
    return document["components"]["schemas"]


DOCUMENT = api_schema(TENANT_URLS)


def _ref(schema):
    if schema and "$ref" in schema:
        return _components(DOCUMENT)[schema["$ref"].rsplit("/", 1)[-1]]
    return schema or {}


def _request_properties(operation) -> dict:
    content = operation.spec.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    return _ref(schema).get("properties", {})


def _response_schema(operation) -> dict:
    for status in ("200", "201"):
        content = operation.spec.get("responses", {}).get(status, {}).get("content", {})
        if "application/json" in content:
            return _ref(content["application/json"].get("schema"))
    return {}


@pytest.fixture
def world(alpha, beta, api_for):
    """Alpha seeded, beta with an admin (key and session); alpha's checksums taken."""
    _alpha_api, _alpha_admin, _ = api_for(alpha)
    with tenant_context(alpha):
        ids = seed(alpha)
    beta_api, beta_admin, _ = api_for(beta)
    beta_session = TenantClient(beta)
    beta_session.force_login(beta_admin)
    alpha_session = TenantClient(alpha)
    alpha_session.force_login(ids["objects"]["admin"])
    with tenant_context(alpha):
        before = table_checksums()
    yield {
        "ids": ids,
        "alpha": alpha,
        "beta": beta,
        "alpha_key": ids["objects"]["raw_key"],
        "alpha_session": alpha_session,
        "beta_api": beta_api,
        "beta_admin": beta_admin,
        "beta_session": beta_session,
    }
    with tenant_context(alpha):
        _forget_refusals()
        after = table_checksums()
    changed = sorted(table for table in before if before[table] != after.get(table))
    assert not changed, f"alpha's rows were changed from beta: {changed}"


def _forget_refusals():
    """
    A key or password refused by alpha is recorded by alpha, as it should be:
    failed attempts (the lockout's count) and failed logins in its audit log.
    Those records, and nothing else, are set aside before alpha's rows are
    compared; a refusal recorded as anything else still counts as a change.
    """
    AccessAttempt.objects.all().delete()
    AccessFailureLog.objects.all().delete()
    AuditEntry.objects.filter(action__in=[Action.LOGIN_FAILED, Action.LOCKED_OUT]).delete()


def _served_by(response):
    return getattr(response.wsgi_request, "tenant", None)


def _user_of(response):
    request = getattr(response, "renderer_context", {}).get("request") or response.wsgi_request
    return getattr(request, "user", None)


# --- Another tenant's ids ----------------------------------------------------


def test_every_api_operation_with_alphas_ids_and_betas_key(world, attacks):
    ids = world["ids"]
    for operation in TENANT_OPERATIONS:
        url = fill(operation.path, ids)
        response = _call(world["beta_api"], operation.method, url, _reference_body(operation, ids))
        attacks.check(f"{operation} as {url} with beta's key", _marker_shown(response))
    attacks.assert_held()


def test_every_route_with_alphas_ids_and_betas_session(world, attacks):
    ids = world["ids"]
    for route in TENANT_ROUTES:
        url = fill(route.template, ids)
        for method in ("get", "post"):
            response = _call(world["beta_session"], method, url)
            attacks.check(f"{method.upper()} {url} with beta's session", _marker_shown(response))
    attacks.assert_held()


# --- Another tenant's key, session cookie and CSRF token ---------------------


def test_alphas_key_is_refused_by_every_api_operation_on_beta(world, attacks):
    client = APIClient(world["beta"], world["alpha_key"])
    for number, operation in enumerate(TENANT_OPERATIONS):
        url = fill(operation.path, world["ids"])
        # An address per call: five wrong keys from one address lock it out (429),
        # which would hide whether the key itself is refused.
        address = f"10.1.{number // 250}.{number % 250 + 1}"
        response = _call(client, operation.method, url, REMOTE_ADDR=address)
        if operation.path in OPEN_API_PATHS:
            leak = _marker_shown(response)
        elif response.status_code != 401 or response.json().get("code") != "invalid_key":
            leak = f"answered {response.status_code}, not 401 invalid_key"
        else:
            leak = _marker_shown(response)
        attacks.check(f"{operation} with alpha's key on beta", leak)
    attacks.assert_held()


def test_alphas_session_cookie_is_anonymous_on_every_route_of_beta(world, attacks):
    cookie = world["alpha_session"].cookies["sessionid"].value
    client = TenantClient(world["beta"])
    for route in TENANT_ROUTES:
        url = fill(route.template, world["ids"])
        for method in ("get", "post"):
            client.cookies["sessionid"] = cookie
            response = _call(client, method, url)
            user = _user_of(response)
            leak = _marker_shown(response)
            if user is not None and user.is_authenticated:
                leak = f"authenticated as {user} on beta"
            attacks.check(f"{method.upper()} {url} with alpha's session cookie", leak)
    attacks.assert_held()


def test_alphas_csrf_token_is_refused_by_every_unsafe_route_of_beta(world, attacks):
    alpha_token = TenantClient(world["alpha"]).get("/accounts/login/").cookies["csrftoken"].value
    client = TenantClient(world["beta"], enforce_csrf_checks=True)
    client.force_login(world["beta_admin"])
    # Beta's own CSRF cookie, which a token must match.
    client.cookies["csrftoken"] = get_token(RequestFactory().get("/"))
    assert client.cookies["csrftoken"].value != alpha_token
    for route in TENANT_ROUTES:
        url = fill(route.template, world["ids"])
        for method in ("post", "patch", "delete"):
            response = _call(client, method, url, HTTP_X_CSRFTOKEN=alpha_token)
            leak = _marker_shown(response)
            if response.status_code < 400:
                leak = f"accepted ({response.status_code})"
            attacks.check(f"{method.upper()} {url} with alpha's CSRF token", leak)
    attacks.assert_held()


def _token_routes():
    """Routes taking a user id and a token: password reset, invitations (by parameter name)."""
    return [
        route
        for route in TENANT_ROUTES
        if {"uidb64", "token"} <= set(route.converters) or "invitation" in (route.name or "")
    ]


def test_alphas_password_reset_and_invitation_links_are_dead_on_beta(world, attacks):
    alpha_user = world["ids"]["objects"]["admin"]
    with tenant_context(world["alpha"]):
        token = default_token_generator.make_token(alpha_user)
    uid = urlsafe_base64_encode(force_bytes(alpha_user.pk))
    for route in _token_routes():
        url = fill(route.template, {**world["ids"], "uidb64": uid, "token": token})
        for method in ("get", "post"):
            response = _call(
                TenantClient(world["beta"]), method, url, {"new_password1": "x", "password": "x"}
            )
            attacks.check(f"{method.upper()} {url} (alpha's link) on beta", _marker_shown(response))
    # Django's token shape: a user in beta with the same id and e-mail address.
    with tenant_context(world["beta"]):
        twin = User.objects.filter(pk=alpha_user.pk).first() or user_create(
            email=alpha_user.email, password=None
        )
        leak = (
            "alpha's token is valid for beta's user"
            if default_token_generator.check_token(twin, token)
            else None
        )
    attacks.check("default_token_generator token of alpha checked in beta", leak)
    attacks.assert_held()


# --- Host, X-Forwarded-Host and absolute URIs --------------------------------------


def _host_variants(host):
    return [host.upper(), f"{host}:8000", f"{host}.", f"{host.title()}.:443"]


def test_host_variants_route_to_the_tenant_they_name_and_nothing_else(world, attacks):
    alpha_host = world["alpha"].get_primary_domain().domain
    beta_host = world["beta"].get_primary_domain().domain
    beta_key = world["beta_api"].defaults["HTTP_AUTHORIZATION"]
    gets = [op for op in TENANT_OPERATIONS if op.method == "get"]
    addresses = (f"10.2.{number // 250}.{number % 250 + 1}" for number in itertools.count())
    for operation in gets:
        url = fill(operation.path, world["ids"])
        for host in _host_variants(alpha_host):
            # Beta's key, sent to alpha by any spelling of its name: alpha serves, refuses.
            # From an address per call, so the lockout (429) cannot hide the refusal.
            response = world["beta_api"].get(url, HTTP_HOST=host, REMOTE_ADDR=next(addresses))
            served = _served_by(response)
            leak = _marker_shown(response) if operation.path in OPEN_API_PATHS else None
            if served is None or served.schema_name != world["alpha"].schema_name:
                leak = f"served by {served} for Host {host}"
            elif operation.path not in OPEN_API_PATHS and response.status_code != 401:
                leak = f"beta's key accepted by alpha ({response.status_code})"
            attacks.check(f"GET {url} Host {host} with beta's key", leak)
        for forwarded in (alpha_host, f"{alpha_host}:8000", f"{alpha_host}, {beta_host}"):
            # X-Forwarded-Host is not trusted: beta's Host decides.
            response = world["beta_api"].get(url, HTTP_X_FORWARDED_HOST=forwarded)
            served = _served_by(response)
            leak = _marker_shown(response)
            if served is None or served.schema_name != world["beta"].schema_name:
                leak = f"X-Forwarded-Host {forwarded} routed to {served}"
            attacks.check(f"GET {url} X-Forwarded-Host {forwarded}", leak)
        # An absolute URI naming alpha in the request line, Host beta's, beta's key.
        response = world["beta_api"].get(f"http://{alpha_host}{url}", HTTP_HOST=beta_host)
        served = _served_by(response)
        leak = _marker_shown(response)
        user = _user_of(response)
        authenticated = user is not None and user.is_authenticated
        if served is not None and authenticated and served.schema_name != world["beta"].schema_name:
            leak = f"beta's key authenticated while served by {served}"
        attacks.check(
            f"GET http://{alpha_host}{url} (Host {beta_host}) with {beta_key[:12]}…", leak
        )
    for host in (f"{alpha_host}.evil.test", "evil.test", f"{alpha_host}@evil.test"):
        response = world["beta_api"].get("/api/v1/me/", HTTP_HOST=host)
        leak = _marker_shown(response)
        if response.status_code < 400:
            leak = f"Host {host} served ({response.status_code})"
        attacks.check(f"GET /api/v1/me/ Host {host}", leak)
    attacks.assert_held()


# --- Cache keys and uploaded files ---------------------------------------------


def test_cache_entries_written_for_alpha_are_not_read_in_beta(world, attacks):
    # Pages of alpha fill the cache as they would (routing, throttles...).
    world["alpha_session"].get("/")
    world["alpha_session"].get("/api/v1/me/")
    with tenant_context(world["alpha"]):
        cache.set("attack-probe", MARKER)
        written = {key: value for key in ("attack-probe",) if (value := cache.get(key)) is not None}
    raw = getattr(cache, "_cache", {})
    prefix = f"{world['alpha'].schema_name}:"
    for full_key in list(raw):
        key = reverse_key(full_key)
        if full_key.startswith(prefix):
            with tenant_context(world["alpha"]):
                written[key] = cache.get(key)
    for key, value in written.items():
        with tenant_context(world["beta"]):
            seen = cache.get(key)
        leak = "alpha's value read in beta" if seen is not None and seen == value else None
        attacks.check(f"cache key {key!r}", leak)
    attacks.assert_held()


def test_alphas_uploaded_files_cannot_be_named_from_beta(world, attacks):
    objects = world["ids"]["objects"]
    alpha_schema = world["alpha"].schema_name
    for attachment in (objects["asset_file"], objects["request_file"]):
        name = attachment.file.name
        with tenant_context(world["alpha"]):
            assert default_storage.exists(name)
            alpha_path = default_storage.path(name)
        for candidate in (name, f"../{alpha_schema}/{name}", alpha_path):
            with tenant_context(world["beta"]):
                try:
                    leak = (
                        "beta's storage opens alpha's file"
                        if default_storage.exists(candidate)
                        else None
                    )
                except SuspiciousFileOperation:
                    leak = None
            attacks.check(f"storage name {candidate} from beta", leak)
    attacks.assert_held()


# --- Celery ----------------------------------------------------------------------


def _our_tasks():
    """Every registered task whose code is in this project (not Celery's or a library's)."""
    celery_app.loader.import_default_modules()  # Every app's tasks, as a worker loads them.
    ours = []
    for task in celery_app.tasks.values():
        package = task.run.__module__.split(".")[0]
        if (Path(settings.BASE_DIR) / package / "__init__.py").is_file():
            ours.append(task)
    return sorted(ours, key=lambda task: task.name)


def test_no_tenant_task_runs_without_a_tenant(public_tenant, attacks):
    for task in _our_tasks():
        if isinstance(task, PlatformTask | SchemaTask):
            # Declared as the platform's: runs in public by design.
            attacks.check(f"task {task.name} (declared platform-wide)", None)
            continue
        if not isinstance(task, TenantTask):
            attacks.check(f"task {task.name}", "neither a TenantTask nor declared platform-wide")
            continue
        with schema_context(get_public_schema_name()):
            try:
                task(*([None] * _required_arguments(task)))
                leak = "ran in the public schema"
            except TaskWithoutTenant:
                leak = None
        attacks.check(f"task {task.name} queued without a tenant", leak)
    attacks.assert_held()


def _required_arguments(task) -> int:
    parameters = inspect.signature(task.run).parameters.values()
    return sum(
        1
        for p in parameters
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    )


# --- Public site on tenant hosts, tenant site on the main domain ----------------


def _func(path, urlconf):
    try:
        return resolve(path, urlconf=urlconf).func
    except Resolver404:
        return None


def _served_view(response):
    """The view the request's own URLconf routed it to (None for a 404)."""
    try:
        return response.resolver_match.func
    except Resolver404:
        return None


def test_each_site_is_served_only_on_its_own_hosts(world, public_tenant, attacks):
    alpha_client = world["alpha_session"]
    public = TenantClient(public_tenant)
    public.cookies["sessionid"] = alpha_client.cookies["sessionid"].value
    for route in PUBLIC_ROUTES:
        url = fill(route.template, {"subdomain": "alpha", **world["ids"]})
        public_view = _func(url, PUBLIC_URLS)
        response = alpha_client.get(url)
        served = _served_view(response)
        leak = None
        shared = public_view is _func(url, TENANT_URLS)  # The same view in both, e.g. /api/'s 404.
        if public_view is not None and served is public_view and not shared:
            leak = "the public site's view answered on a tenant host"
        attacks.check(f"public {url} on alpha's host", leak)
    for route in TENANT_ROUTES:
        url = fill(route.template, world["ids"])
        tenant_view = _func(url, TENANT_URLS)
        for method in ("get", "post"):
            response = _call(public, method, url, HTTP_AUTHORIZATION=f"Bearer {world['alpha_key']}")
            served = _served_view(response)
            leak = _marker_shown(response)
            shared = tenant_view is _func(url, PUBLIC_URLS)
            if tenant_view is not None and served is tenant_view and not shared:
                leak = "a tenant view answered on the main domain"
            attacks.check(f"tenant {method.upper()} {url} on the main domain", leak)
    attacks.assert_held()


# --- Mass assignment ------------------------------------------------------------------

FORGED = {
    "integer": 987654,
    "number": 98765.4,
    "string": "forged-value",
    "boolean": None,  # the opposite of the current value
    "array": ["forged"],
    "object": {"forged": True},
}


def _read_only_fields(operation) -> dict:
    """readOnly properties of the answer that the request body does not also take."""
    answer = _response_schema(operation).get("properties", {})
    writable = _request_properties(operation)
    return {
        name: prop for name, prop in answer.items() if prop.get("readOnly") and name not in writable
    }


def _forged(prop, current):
    kind = prop.get("type", "string")
    if prop.get("format") in {"date-time", "date"}:
        return "2001-02-03T04:05:06Z" if prop["format"] == "date-time" else "2001-02-03"
    if kind == "boolean":
        return not current
    return FORGED.get(kind, "forged-value")


def test_no_read_only_field_can_be_written(alpha, api_for, attacks):
    client, _admin, _key = api_for(alpha)
    ids = seed(alpha)
    for operation in TENANT_OPERATIONS:
        if operation.method not in {"patch", "put"}:
            continue
        url = fill(operation.path, ids)
        before = client.get(url)
        assert before.status_code == 200, (url, before.content[:200])
        current = before.json()
        writable = {k: v for k, v in current.items() if k in _request_properties(operation)}
        for name, prop in _read_only_fields(operation).items():
            forged = _forged(prop, current.get(name))
            # PATCH sends the field alone; PUT needs the whole object around it.
            body = {name: forged} if operation.method == "patch" else {**writable, name: forged}
            _call(client, operation.method, url, body)
            after = client.get(url).json()
            leak = None
            if after.get(name) != current.get(name) and name not in {"updated"}:
                leak = f"{name} changed from {current.get(name)!r} to {after.get(name)!r}"
            attacks.check(f"{operation} setting read-only {name}", leak)
    for operation in TENANT_OPERATIONS:
        if operation.method != "post" or "{" in operation.path:
            continue
        for name, prop in _read_only_fields(operation).items():
            forged = _forged(prop, None)
            response = _call(client, "post", operation.path, {name: forged})
            leak = None
            if response.status_code < 300 and response.json().get(name) == forged:
                leak = f"created with {name}={forged!r}"
            attacks.check(f"{operation} setting read-only {name}", leak)
    attacks.assert_held()
