"""The 403, 404 and 500 pages, on tenant hosts and on the main domain."""

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error

from accounts.roles import BuiltinRole


@pytest.fixture
def requester(alpha, make_people):
    return make_people(alpha, ann=BuiltinRole.REQUESTER)["ann"]


def test_an_unknown_page_on_a_tenant_host_is_the_designed_404(alpha_client, requester):
    alpha_client.force_login(requester)
    response = alpha_client.get("/no/such/page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in html and "Error 404" in html
    # The site's layout: its stylesheet and the organisation's navigation.
    assert "vendor/bootstrap/css/bootstrap.min.css" in html and "alpha" in html.lower()
    assert 'href="/requests/"' in html


def test_an_unknown_object_is_the_designed_404(alpha_client, requester):
    alpha_client.force_login(requester)
    response = alpha_client.get("/assets/999999/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_an_unknown_page_on_the_main_domain_is_the_designed_404(public_client, public_tenant):
    response = public_client.get("/no/such/page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in html and "vendor/bootstrap/css/bootstrap.min.css" in html


def test_permission_denied_is_the_designed_403(alpha_client, requester):
    alpha_client.force_login(requester)
    response = alpha_client.get("/assets/new/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "You are not allowed to do this" in html and "Error 403" in html
    assert "vendor/bootstrap/css/bootstrap.min.css" in html


def test_the_500_page_renders_without_a_database_or_a_request_context():
    # No ``db`` fixture: pytest-django refuses any query in this test, so the
    # page must not touch the database (it may be what failed).
    response = server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html and "Error 500" in html
    assert "vendor/bootstrap/css/bootstrap.min.css" in html
    assert "<script" not in html and "style=" not in html
