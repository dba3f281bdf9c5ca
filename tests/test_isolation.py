"""One tenant's rows and sessions are invisible to every other tenant."""

import pytest
from django_tenants.utils import tenant_context

from accounts.models import User
from accounts.services import user_create

pytestmark = pytest.mark.django_db


def test_a_row_written_in_alpha_is_invisible_from_beta(alpha, beta):
    with tenant_context(alpha):
        user_create(email="only-in-alpha@example.com", password="x-Secret-123")
        assert User.objects.filter(email="only-in-alpha@example.com").exists()

    with tenant_context(beta):
        assert not User.objects.filter(email="only-in-alpha@example.com").exists()


def test_a_session_from_alpha_is_anonymous_on_beta(alpha, beta, alpha_client, beta_client):
    with tenant_context(alpha):
        user = user_create(email="ann@example.com", password="x-Secret-123")
    assert alpha_client.login(email="ann@example.com", password="x-Secret-123")
    session_cookie = alpha_client.cookies["sessionid"].value

    assert alpha_client.get("/").status_code == 200
    beta_client.cookies["sessionid"] = session_cookie
    response = beta_client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert response.wsgi_request.user.is_anonymous
    assert alpha_client.get("/").wsgi_request.user == user


def test_the_same_email_is_two_unrelated_accounts_in_two_tenants(alpha, beta):
    with tenant_context(alpha):
        user_create(email="sam@example.com", password="alpha-Secret-1", full_name="Sam A")
    with tenant_context(beta):
        user_create(email="sam@example.com", password="beta-Secret-1", full_name="Sam B")
        assert User.objects.get(email="sam@example.com").full_name == "Sam B"
    with tenant_context(alpha):
        assert User.objects.get(email="sam@example.com").check_password("alpha-Secret-1")
