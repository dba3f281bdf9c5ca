"""Self-service signup: the page, the JSON endpoint, atomicity and rate limiting."""

import pytest
from django.contrib.auth.models import Group
from django.db.models.signals import post_save
from django_tenants.utils import schema_exists, tenant_context

from accounts.models import User
from main_site.services import tenant_signup
from tenants.models import Domain, Tenant, TenantAuditEntry

pytestmark = pytest.mark.django_db

SIGNUP = {
    "organisation_name": "Gamma Grounds",
    "subdomain": "gamma",
    "admin_name": "Gina Gamma",
    "admin_email": "gina@gamma.example",
    "admin_password": "rain-Barrel-742",
    "plan": "basic",
}


def nothing_left_of(subdomain):
    return (
        not Tenant.objects.filter(subdomain=subdomain).exists()
        and not Domain.objects.filter(domain=f"{subdomain}.localhost").exists()
        and not schema_exists(f"t_{subdomain}")
    )


def test_signup_page_creates_a_ready_tenant_and_sends_the_admin_to_its_login(public_client):
    response = public_client.post("/signup/", SIGNUP)

    assert response.status_code == 302
    assert (
        response["Location"] == "http://gamma.localhost/accounts/login/?email=gina%40gamma.example"
    )
    tenant = Tenant.objects.get(subdomain="gamma")
    assert (tenant.status, tenant.plan, tenant.onboarded) == ("trial", "basic", True)
    assert tenant.get_primary_domain().domain == "gamma.localhost"
    with tenant_context(tenant):
        admin = User.objects.get(email="gina@gamma.example")
        assert admin.check_password("rain-Barrel-742")
        assert list(admin.groups.values_list("name", flat=True)) == ["Admin"]
        assert set(Group.objects.values_list("name", flat=True)) == {
            "Admin", "Manager", "Technician", "Requester"
        }  # fmt: skip


def test_the_new_admin_can_log_in_on_the_new_subdomain(public_client):
    public_client.post("/signup/", SIGNUP)
    login_page = public_client.get(
        "/accounts/login/?email=gina@gamma.example", HTTP_HOST="gamma.localhost"
    )
    assert 'value="gina@gamma.example"' in login_page.content.decode()

    response = public_client.post(
        "/accounts/login/",
        {"username": "gina@gamma.example", "password": "rain-Barrel-742"},
        HTTP_HOST="gamma.localhost",
    )

    assert response.status_code == 302
    # An admin's home is the dashboard.
    home = public_client.get("/", HTTP_HOST="gamma.localhost", follow=True)
    assert home.redirect_chain[-1][0] == "/requests/dashboard/"
    assert "Gina" in home.content.decode() and "<h1" in home.content.decode()


def test_signup_page_shows_each_error_beside_its_field(public_client, alpha):
    response = public_client.post(
        "/signup/",
        {**SIGNUP, "subdomain": "alpha", "admin_email": "nope", "admin_password": "123"},
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "already taken" in errors["subdomain"][0]
    assert "admin_email" in errors
    assert "admin_password" in errors
    assert Tenant.objects.filter(subdomain="alpha").count() == 1


def test_json_signup_answers_201_with_the_login_url(public_client):
    response = public_client.post("/api/signup/", SIGNUP, content_type="application/json")

    assert response.status_code == 201
    assert response.json()["login_url"] == "http://gamma.localhost/accounts/login/"
    assert response.json()["status"] == "trial"
    assert Tenant.objects.filter(subdomain="gamma", plan="basic").exists()


def test_json_signup_errors_name_the_fields_at_fault(public_client):
    response = public_client.post(
        "/api/signup/",
        {**SIGNUP, "subdomain": "Bad_Name", "plan": "gold"},
        content_type="application/json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"plan"}  # the serializer stops at field formats first

    response = public_client.post(
        "/api/signup/", {**SIGNUP, "subdomain": "Bad_Name"}, content_type="application/json"
    )
    assert response.json()["fields"]["subdomain"] == ["Use lower-case letters only."]
    assert nothing_left_of("bad_name")


def test_availability_check(public_client, alpha):
    taken = public_client.get("/signup/availability/?subdomain=alpha").json()
    reserved = public_client.get("/signup/availability/?subdomain=admin").json()
    free = public_client.get("/signup/availability/?subdomain=omega").json()

    assert taken == {
        "subdomain": "alpha",
        "available": False,
        "reason": "This subdomain is already taken.",
    }
    assert reserved["available"] is False and "reserved" in reserved["reason"]
    assert free["available"] is True


def test_signup_is_rate_limited_per_client(public_client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"signup": "2/hour"},
    }
    bad = {**SIGNUP, "admin_password": "1"}
    assert public_client.post("/signup/", bad).status_code == 200
    api_bad = public_client.post("/api/signup/", bad, content_type="application/json")
    assert api_bad.status_code == 400

    page = public_client.post("/signup/", SIGNUP)
    api = public_client.post("/api/signup/", SIGNUP, content_type="application/json")
    other_client = public_client.post("/signup/", bad, REMOTE_ADDR="10.9.8.7")

    assert page.status_code == 429 and int(page["Retry-After"]) > 0
    assert api.status_code == 429 and "Retry-After" in api
    assert other_client.status_code == 200
    assert nothing_left_of("gamma")


# --- Atomicity: a failure at any step leaves no tenant row, domain or schema ---


def _fail_on_save(model, when=lambda instance, kwargs: True):
    def receiver(sender, instance, **kwargs):
        if when(instance, kwargs):
            raise RuntimeError(f"injected failure saving {model.__name__}")

    post_save.connect(receiver, sender=model, weak=False)
    return receiver


@pytest.mark.parametrize(
    ("model", "when"),
    [
        (Tenant, lambda instance, kwargs: kwargs["created"]),
        (Domain, lambda instance, kwargs: True),
        (User, lambda instance, kwargs: True),
        (Tenant, lambda instance, kwargs: "onboarded" in (kwargs["update_fields"] or ())),
    ],
    # No "roles" step: the built-in roles come with the template schema
    # (accounts.apps.builtin_roles_update), so signup only reads them.
    ids=["tenant-row", "domain", "admin-user", "onboarding"],
)
def test_signup_failing_at_any_step_leaves_nothing_behind(public_tenant, model, when):
    receiver = _fail_on_save(model, when)
    try:
        with pytest.raises(RuntimeError, match="injected failure"):
            tenant_signup(**SIGNUP)
    finally:
        post_save.disconnect(receiver, sender=model)

    assert nothing_left_of("gamma")


def test_signup_failing_right_after_the_schema_copy_leaves_no_schema(public_tenant):
    seen = {}

    def receiver(sender, instance, **kwargs):
        seen["schema_existed"] = schema_exists("t_gamma")
        raise RuntimeError("injected failure after the copy")

    post_save.connect(receiver, sender=TenantAuditEntry, weak=False)
    try:
        with pytest.raises(RuntimeError, match="after the copy"):
            tenant_signup(**SIGNUP)
    finally:
        post_save.disconnect(receiver, sender=TenantAuditEntry)

    assert seen == {"schema_existed": True}
    assert nothing_left_of("gamma")


def test_signup_with_a_domain_already_routed_elsewhere_leaves_nothing(public_tenant, alpha):
    Domain.objects.create(domain="gamma.localhost", tenant=alpha, is_primary=False)

    with pytest.raises(Exception, match="domain"):
        tenant_signup(**SIGNUP)

    assert not Tenant.objects.filter(subdomain="gamma").exists()
    assert not schema_exists("t_gamma")


def test_the_login_link_keeps_an_address_with_a_plus_intact(public_client):
    response = public_client.post("/signup/", {**SIGNUP, "admin_email": "gina+ops@gamma.example"})

    login_page = public_client.get(
        response["Location"].split("localhost", 1)[1], HTTP_HOST="gamma.localhost"
    )
    assert 'value="gina+ops@gamma.example"' in login_page.content.decode()
