"""
What several benches share: Django set up on the bench database, and tenants
made in bulk (kept between runs, found again by their subdomain prefix).

Import it first, before anything of Django's: ``from _setup import ...``
(bench/ is the script's folder, so it is on sys.path).
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartmaintenance.settings")

import django  # noqa: E402

django.setup()

from django_tenants.utils import (  # noqa: E402
    get_public_schema_name,
    schema_context,
    tenant_context,
)

from accounts.api_keys import api_key_create  # noqa: E402
from accounts.models import APIKey, User  # noqa: E402
from accounts.roles import BuiltinRole  # noqa: E402
from accounts.services import roles_provision_defaults, user_create  # noqa: E402
from billing.services import tenant_change_plan, tenant_create  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.provisioning import template_ensure  # noqa: E402
from tenants.services import tenant_update  # noqa: E402


def tenants_ensure(prefix: str, count: int, **fields) -> list[Tenant]:
    """
    Tenants ``<prefix>0000`` to ``<prefix><count - 1>``, active, made the way
    signups make them (a copy of the template each) when missing; the
    others are kept from an earlier run. Returns them in order.
    """
    template_ensure()
    existing = set(
        Tenant.objects.filter(subdomain__startswith=prefix).values_list("subdomain", flat=True)
    )
    made = 0
    started = time.monotonic()
    for n in range(count):
        subdomain = f"{prefix}{n:04d}"
        if subdomain not in existing:
            tenant_create(
                name=f"{prefix}{n:04d}", subdomain=subdomain, status=Tenant.Status.ACTIVE, **fields
            )
            made += 1
            if made % 100 == 0:
                print(f"  created {made} tenants ({time.monotonic() - started:.0f} s)", flush=True)
    if made:
        print(f"{made} tenants created in {time.monotonic() - started:.0f} s, {count - made} kept")
    wanted = [f"{prefix}{n:04d}" for n in range(count)]
    by_subdomain = {t.subdomain: t for t in Tenant.objects.filter(subdomain__in=wanted)}
    return [by_subdomain[subdomain] for subdomain in wanted]


# One fleet of tenants for the benches that need many (migrations, scale, load).
FLEET_PREFIX = "fleet-"


def fleet_admin_email(tenant: Tenant) -> str:
    """The e-mail of a fleet tenant's admin: it names the tenant, so answers can be checked."""
    return f"admin@{tenant.subdomain}.bench"


def api_key_fresh(tenant: Tenant, *, name: str = "bench") -> str:
    """
    A new read-write key acting as the tenant's admin (made with the
    premium plan and an unlimited rate the first time); earlier keys of
    that name are revoked. Returns the raw key.
    """
    if tenant.plan != "premium" or (tenant.settings or {}).get("api_requests_per_minute") != 10**9:
        with schema_context(get_public_schema_name()):
            if tenant.plan != "premium":
                tenant = tenant_change_plan(tenant=tenant, plan="premium", actor="bench")
            # Served, not refused: the throttle still runs on every call.
            tenant = tenant_update(
                tenant=tenant,
                actor="bench",
                settings={**(tenant.settings or {}), "api_requests_per_minute": 10**9},
                max_users=None,
                max_requests_per_month=None,
            )
    with tenant_context(tenant):
        admin = User.objects.filter(email=fleet_admin_email(tenant)).first()
        if admin is None:
            roles = roles_provision_defaults()
            admin = user_create(
                email=fleet_admin_email(tenant), password=None, roles=[roles[BuiltinRole.ADMIN]]
            )
        APIKey.objects.filter(name=name).delete()
        _key, raw_key = api_key_create(by=admin, name=name, access=APIKey.Access.READ_WRITE)
    return raw_key


def wsgi_get(handler, host: str, url: str, **headers) -> tuple[str, bytes]:
    """GET ``url`` on ``host`` straight through a WSGI handler, in process: (status, body)."""
    import io

    path, _, query = url.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": query,
        "SERVER_NAME": host,
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = status

    response = handler(environ, start_response)
    body = b"".join(response)
    response.close()  # request_finished, as a WSGI server would send it
    return answer["status"], body
