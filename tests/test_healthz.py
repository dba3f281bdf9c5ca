"""
``/healthz`` (smartmaintenance/health.py): 200 when the database and the
broker answer, 503 naming the one that does not; on any host, before
tenant routing.
"""

import pytest
import requests
from django.test import Client, override_settings
from server_process import Server, free_port

from tenants.services import tenant_suspend


@pytest.mark.django_db
def test_healthy_on_every_host(alpha, public_tenant):
    ok = {"status": "ok", "database": "ok", "broker": "ok"}
    for host in ("localhost", "alpha.localhost", "nobody.localhost", "10.1.2.3"):
        response = Client(HTTP_HOST=host).get("/healthz")
        assert response.status_code == 200, host
        assert response.json() == ok, host
        assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_suspended_tenant_still_healthy(make_tenant, public_tenant):
    tenant = make_tenant("sleepy")
    tenant_suspend(tenant=tenant, reason="test", actor="test")
    response = Client(HTTP_HOST="sleepy.localhost").get("/healthz")
    assert response.status_code == 200
    assert Client(HTTP_HOST="sleepy.localhost").get("/").status_code == 403


@pytest.mark.django_db
def test_broker_down_is_503(public_tenant):
    with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0"):
        response = Client(HTTP_HOST="localhost").get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "unavailable"}


def test_database_down_is_503(tmp_path):
    # A server whose database URL points at a port nobody listens on.
    closed = free_port()
    down = f"postgres://postgres@127.0.0.1:{closed}/nowhere"
    with Server(tmp_path / "gunicorn.log", DATABASE_URL=down) as base_url:
        response = requests.get(f"{base_url}/healthz", headers={"Host": "localhost"}, timeout=30)
        again = requests.get(f"{base_url}/healthz", headers={"Host": "acme.localhost"}, timeout=30)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unavailable", "broker": "ok"}
    assert again.status_code == 503
