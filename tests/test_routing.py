"""Subdomain routing, URLconf separation, unknown and suspended tenants."""

import pytest
from django.test import Client

from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def get(host, path="/accounts/login/"):
    return Client().get(path, HTTP_HOST=host)


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("alpha.localhost", "Alpha Works"),
        ("beta.localhost", "Beta Buildings"),
        ("ALPHA.LocalHost", "Alpha Works"),
        ("alpha.localhost:8000", "Alpha Works"),
        ("Beta.LOCALHOST:8443", "Beta Buildings"),
    ],
)
def test_subdomain_selects_its_tenant(host, name):
    response = get(host)

    assert response.status_code == 200
    assert response.wsgi_request.tenant.name == name
    assert f"Log in to {name}" in response.content.decode()


def test_unknown_subdomain_gets_a_404_page_not_the_public_site():
    response = get("nosuchorg.localhost", "/")

    assert response.status_code == 404
    assert "No such organisation" in response.content.decode()
    assert "nosuchorg.localhost" in response.content.decode()


def test_host_outside_the_base_domain_is_refused():
    response = get("evil.example.com", "/")

    assert response.status_code in (400, 404)


def test_suspended_tenant_gets_a_403_page(make_tenant):
    make_tenant("gamma", status=Tenant.Status.SUSPENDED)

    response = get("gamma.localhost", "/accounts/login/")

    assert response.status_code == 403
    assert "suspended" in response.content.decode()


def test_suspended_tenant_gets_json_403_on_the_api(make_tenant):
    make_tenant("gamma", status=Tenant.Status.SUSPENDED)

    response = get("gamma.localhost", "/api/v1/anything/")

    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "tenant_suspended"


def test_main_domain_serves_the_landing_page_and_admin():
    assert get("localhost", "/").status_code == 200
    assert get("localhost:8000", "/admin/login/").status_code == 200


def test_tenant_urls_do_not_exist_on_the_main_domain():
    assert get("localhost", "/accounts/login/").status_code == 404


def test_admin_does_not_exist_on_a_tenant_subdomain():
    assert get("alpha.localhost", "/admin/").status_code == 404
    assert get("alpha.localhost", "/admin/login/").status_code == 404
