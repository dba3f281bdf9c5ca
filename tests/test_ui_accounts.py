"""
A user's own account on their organisation's subdomain: the login page,
password reset by e-mail (links on the request's host), change password,
and the profile with the notification switches.
"""

import re

import pytest
from django.core import mail

from accounts.models import NotificationPreference, User
from accounts.roles import BuiltinRole

RESET_LINK = re.compile(r"http://alpha\.localhost/accounts/password/reset/[^/\s]+/[^/\s]+/")


@pytest.fixture
def tech(alpha, make_people):
    tech = make_people(alpha, tech=BuiltinRole.TECHNICIAN)["tech"]
    tech.set_password("old-Passphrase-1")
    tech.save()
    return tech


def test_the_login_page_offers_a_password_reset(alpha_client, alpha):
    page = alpha_client.get("/accounts/login/").content.decode()
    assert "Log in to Alpha Works" in page
    assert ">Log in</button>" in page
    assert '<a href="/accounts/password/reset/">Forgot your password?</a>' in page


def test_password_reset_end_to_end(alpha_client, tech):
    mail.outbox.clear()
    response = alpha_client.post(
        "/accounts/password/reset/", {"email": "tech@alpha.example"}, follow=True
    )
    assert "Check your e-mail" in response.content.decode()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["tech@alpha.example"]
    assert message.subject == "Reset your password for Alpha Works"
    assert "Alpha Works · SmartMaintenance" in message.body
    link = RESET_LINK.search(message.body)
    assert link, message.body  # on the tenant's own host, taken from the request

    form = alpha_client.get(link.group(0), follow=True)
    assert "Choose a new password" in form.content.decode()
    done = alpha_client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "new-Passphrase-2", "new_password2": "new-Passphrase-2"},
        follow=True,
    )
    assert "Your password has been set" in done.content.decode()
    tech.refresh_from_db()
    assert tech.check_password("new-Passphrase-2")
    # The link works once.
    again = alpha_client.get(link.group(0), follow=True)
    assert "This link is not valid" in again.content.decode()


def test_the_reset_link_follows_the_host_the_user_came_on(alpha_client, tech):
    mail.outbox.clear()
    alpha_client.post(
        "/accounts/password/reset/",
        {"email": "tech@alpha.example"},
        HTTP_HOST="alpha.localhost:8000",
    )
    assert "http://alpha.localhost:8000/accounts/password/reset/" in mail.outbox[0].body


def test_reset_for_an_unknown_address_says_the_same_and_sends_nothing(alpha_client, tech):
    mail.outbox.clear()
    response = alpha_client.post(
        "/accounts/password/reset/", {"email": "nobody@alpha.example"}, follow=True
    )
    assert "Check your e-mail" in response.content.decode()
    assert mail.outbox == []


def test_an_address_of_another_tenant_gets_no_reset_here(beta_client, tech):
    mail.outbox.clear()
    beta_client.post("/accounts/password/reset/", {"email": "tech@alpha.example"})
    assert mail.outbox == []


def test_change_password(alpha_client, tech):
    alpha_client.force_login(tech)
    wrong = alpha_client.post(
        "/accounts/password/change/",
        {
            "old_password": "wrong",
            "new_password1": "new-Passphrase-3",
            "new_password2": "new-Passphrase-3",
        },
    )
    assert "Your old password was entered incorrectly." in wrong.content.decode()

    response = alpha_client.post(
        "/accounts/password/change/",
        {
            "old_password": "old-Passphrase-1",
            "new_password1": "new-Passphrase-3",
            "new_password2": "new-Passphrase-3",
        },
        follow=True,
    )

    assert "Your password has been changed." in response.content.decode()
    tech.refresh_from_db()
    assert tech.check_password("new-Passphrase-3")
    # Still logged in: Django updated the session's hash.
    assert alpha_client.get("/accounts/profile/").status_code == 200


def test_change_password_needs_a_login(alpha_client, tech):
    response = alpha_client.get("/accounts/password/change/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_user_menu_links_profile_and_change_password(alpha_client, tech):
    alpha_client.force_login(tech)
    page = alpha_client.get("/accounts/profile/").content.decode()
    assert 'href="/accounts/profile/"' in page and "Profile" in page
    assert 'href="/accounts/password/change/"' in page and "Change password" in page


def test_profile_changes_the_name(alpha_client, tech):
    alpha_client.force_login(tech)
    response = alpha_client.post("/accounts/profile/", {"full_name": "Tess Tech"}, follow=True)
    assert "Profile saved." in response.content.decode()
    assert User.objects.get(pk=tech.pk).full_name == "Tess Tech"


def test_profile_holds_the_notification_switches(alpha_client, tech):
    alpha_client.force_login(tech)
    page = alpha_client.get("/accounts/profile/").content.decode()
    assert 'action="/accounts/notifications/"' in page and 'name="assignment"' in page

    response = alpha_client.post("/accounts/notifications/", {"comment": "on"}, follow=True)

    assert response.redirect_chain[-1][0] == "/accounts/profile/"
    assert "Notification preferences saved." in response.content.decode()
    preference = NotificationPreference.objects.get(user=tech)
    assert (preference.assignment, preference.comment) == (False, True)


def test_profile_needs_a_login(alpha_client, tech):
    response = alpha_client.get("/accounts/profile/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
