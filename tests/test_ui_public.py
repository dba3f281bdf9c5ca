"""
The main domain's pages: landing, pricing from the plan catalogue, signup,
and "find my organisation", which never says whether an address exists.
"""

import re

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from billing.plans import PLANS, Feature, plan_limits
from smartmaintenance.celery import app as celery_app
from tenants.models import Tenant
from tenants.services import tenant_update


@pytest.fixture
def eager_tasks():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def test_the_landing_page_explains_the_product(public_client):
    page = public_client.get("/").content.decode()
    assert page.count("<h1") == 1
    for text in ["What it does", "Requesters", "Technicians", "Managers", "Admins", "QR"]:
        assert text in page
    assert 'href="/signup/"' in page
    assert 'href="/pricing/"' in page
    assert 'href="/find-my-organisation/"' in page


def test_pricing_shows_each_plans_limits_and_features_from_the_catalogue(public_client):
    page = public_client.get("/pricing/").content.decode()
    for code, plan in PLANS.items():
        start = page.index(f'id="plan-{code.value}"')
        card = page[start : page.index("</section>", start)]
        assert plan.name in card
        limits = plan_limits(code)
        users = limits["max_users"]
        assert (f"{users} user" if users is not None else "Unlimited users") in card
        assets = limits["max_assets"]
        assert (f"{assets} asset" if assets is not None else "Unlimited assets") in card
        requests = limits["max_requests_per_month"]
        assert (
            f"{requests} requests a month" if requests is not None else "Unlimited requests"
        ) in card
        assert (
            "Custom pricing" if plan.monthly_price is None else f"${plan.monthly_price}"
        ) in card
        for feature in Feature:
            marker = "Included:" if feature in plan.features else "Not included:"
            assert re.search(rf"{marker}</span>\s*{re.escape(str(feature.label))}", card), (
                code,
                feature,
            )
        assert f'href="/signup/?plan={code.value}"' in card


def test_signup_takes_the_plan_from_the_pricing_page(public_client):
    page = public_client.get("/signup/?plan=premium").content.decode()
    assert '<option value="premium" selected>' in page
    assert ">Create my organisation</button>" in page
    assert 'id="subdomain-status"' in page


@pytest.fixture
def members(public_tenant):
    """tina@alpha.example has accounts at alpha and beta; gone@ a deactivated one at alpha."""
    for subdomain in ("alpha", "beta"):
        tenant = Tenant.objects.get(subdomain=subdomain)
        with tenant_context(tenant):
            tenant_update(tenant=tenant, actor="test", max_users=None)
            roles = roles_provision_defaults()
            user_create(
                email="tina@alpha.example",
                password=None,
                roles=[roles[BuiltinRole.TECHNICIAN]],
            )
            if subdomain == "alpha":
                gone = user_create(email="gone@alpha.example", password=None)
                gone.is_active = False
                gone.save()


def without_csrf(response) -> str:
    # The CSRF token is masked afresh on every page; nothing else may differ.
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", response.content.decode())


def ask(client, email, capture):
    mail.outbox.clear()
    with capture(execute=True):
        response = client.post("/find-my-organisation/", {"email": email})
    return response


def test_find_my_organisation_emails_the_login_links(
    public_client, members, eager_tasks, django_capture_on_commit_callbacks
):
    response = ask(public_client, "tina@alpha.example", django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["tina@alpha.example"]
    assert "Alpha Works" in message.body and "Beta Buildings" in message.body
    assert "http://alpha.localhost/accounts/login/?email=tina%40alpha.example" in message.body
    assert "http://beta.localhost/accounts/login/?email=tina%40alpha.example" in message.body


def test_find_my_organisation_leaves_out_deactivated_accounts_and_suspended_tenants(
    public_client, members, eager_tasks, django_capture_on_commit_callbacks
):
    ask(public_client, "gone@alpha.example", django_capture_on_commit_callbacks)
    assert mail.outbox == []

    tenant_update(tenant=Tenant.objects.get(subdomain="beta"), actor="test", status="suspended")
    ask(public_client, "tina@alpha.example", django_capture_on_commit_callbacks)
    assert "Alpha Works" in mail.outbox[0].body
    assert "Beta Buildings" not in mail.outbox[0].body


def test_find_my_organisation_never_reveals_whether_an_address_exists(
    public_client, members, eager_tasks, django_capture_on_commit_callbacks
):
    known = ask(public_client, "tina@alpha.example", django_capture_on_commit_callbacks)
    unknown = ask(public_client, "nobody@nowhere.example", django_capture_on_commit_callbacks)

    assert known.status_code == unknown.status_code == 200
    known_page = without_csrf(known).replace("tina@alpha.example", "X")
    assert known_page == without_csrf(unknown).replace("nobody@nowhere.example", "X")
    assert "If X has an account" in known_page
    assert mail.outbox == []  # nothing sent to an address without accounts


def test_find_my_organisation_rejects_a_bad_address(public_client):
    response = public_client.post("/find-my-organisation/", {"email": "not-an-address"})
    assert "Enter a valid email address." in response.content.decode()


def test_find_my_organisation_is_throttled(public_client, django_capture_on_commit_callbacks):
    for _ in range(5):
        assert (
            public_client.post("/find-my-organisation/", {"email": "a@b.example"}).status_code
            == 200
        )
    response = public_client.post("/find-my-organisation/", {"email": "a@b.example"})
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    assert int(response["Retry-After"]) > 0
