"""
Outgoing webhooks connect to the address that was checked (point 9 of issue
15): the receiver's name is resolved once, and the socket goes to that
answer with the original Host header, TLS server name and certificate check.
A local HTTPS server plays the receiver; the ``resolver`` fixture plays a DNS
server whose answer changes between calls (rebinding).
"""

import http.server
import json
import ssl
import subprocess
import threading

import pytest
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from billing.services import tenant_change_plan
from requests_app.services import request_create
from webhooks import services
from webhooks.delivery import delivery_attempt
from webhooks.models import WebhookDelivery

NAME = "hooks.example.test"
# Never answers here: no route leaves this machine (TEST-NET-1 and a public one).
UNREACHABLE = "192.0.2.1"
PUBLIC = "93.184.216.34"


def _certificate(folder, name):
    """A self-signed certificate for ``name`` (its own CA), and its key."""
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


class Receiver:
    """An HTTPS server on 127.0.0.1 recording each request's Host, SNI name and body."""

    def __init__(self, cert, key):
        self.requests, self.server_names = [], []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.headers["Host"], json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        context.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def certificates(tmp_path):
    return {name: _certificate(tmp_path, name) for name in (NAME, "elsewhere.example.test")}


@pytest.fixture
def receiver(certificates, settings):
    cert, key = certificates[NAME]
    settings.WEBHOOKS_CA_BUNDLE = str(cert)
    settings.WEBHOOKS_TIMEOUT_SECONDS = 2
    settings.WEBHOOKS_ALLOW_HTTP = False
    running = Receiver(cert, key)
    yield running
    running.close()


@pytest.fixture
def admin(alpha):
    with schema_context(get_public_schema_name()):
        tenant_change_plan(tenant=alpha, plan="premium", actor="test")
    roles = roles_provision_defaults()
    return user_create(email="hooks@alpha.example", password=None, roles=[roles[BuiltinRole.ADMIN]])


def _pending(admin, url):
    # Saved with private addresses allowed: the save-time check does not
    # resolve, and the tests set the send-time rule themselves.
    endpoint = services.endpoint_create(by=admin, url=url)
    request = request_create(title="Leak")
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_kind="request.created",
        event_id="0b6f2d0e-8f55-4a36-9f0e-6d1b1a4f3c21",
        payload={"id": "0b6f2d0e-8f55-4a36-9f0e-6d1b1a4f3c21", "request": request.pk},
        next_attempt_at=timezone.now(),
    )


def test_the_checked_answer_is_the_one_connected_to_with_the_names_host_and_sni(
    admin, receiver, resolver, settings
):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    # The first answer is the receiver; any later one goes nowhere.
    resolver.answer(NAME, "127.0.0.1", UNREACHABLE)
    delivery = _pending(admin, f"https://{NAME}:{receiver.port}/in")

    delivery_attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_response_code, delivery.last_error) == (
        "succeeded",
        200,
        "",
    )
    assert resolver.calls == [NAME]
    assert receiver.server_names == [NAME]
    assert [host for host, _body in receiver.requests] == [f"{NAME}:{receiver.port}"]


def test_the_certificate_must_name_the_host_even_though_an_address_is_dialled(
    admin, certificates, receiver, resolver, settings
):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    # The receiver's certificate is trusted but names another host.
    cert, _key = certificates["elsewhere.example.test"]
    settings.WEBHOOKS_CA_BUNDLE = str(cert)
    resolver.answer(NAME, "127.0.0.1")
    delivery = _pending(admin, f"https://{NAME}:{receiver.port}/in")

    delivery_attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == "retrying"
    assert "SSLError" in delivery.last_error
    assert receiver.requests == []


def test_a_name_rebound_to_an_internal_address_after_the_check_is_not_reached(
    admin, receiver, resolver, settings
):
    # Production's rule: only public addresses. The DNS server answers a public
    # address to the check and then this machine's.
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    delivery = _pending(admin, f"https://{NAME}:{receiver.port}/in")
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    resolver.answer(NAME, PUBLIC, "127.0.0.1")

    delivery_attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == "retrying"
    assert PUBLIC in delivery.last_error
    assert receiver.requests == []
    assert resolver.calls == [NAME]
