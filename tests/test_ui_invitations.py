"""
Invitations: the admin invites by e-mail, the invitee follows the link from
the e-mail, sets a password and logs in. Links expire, work once, die with
a deactivation; an admin can resend one and deactivate a user.
"""

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from accounts.invitations import INVITATION_MAX_AGE
from accounts.models import User
from accounts.roles import BuiltinRole

LINK = re.compile(r"http://alpha\.localhost/accounts/invitation/[^/\s]+/")


@pytest.fixture
def people(alpha, make_people):
    return make_people(alpha, admin=BuiltinRole.ADMIN, manager=BuiltinRole.MANAGER)


@pytest.fixture
def admin_client(alpha_client, people):
    alpha_client.force_login(people["admin"])
    return alpha_client


def invite(client, email="tina@alpha.example", role=BuiltinRole.TECHNICIAN):
    mail.outbox.clear()
    return client.post(
        "/accounts/users/new/",
        {
            "email": email,
            "full_name": "Tina Tech",
            "roles": [Group.objects.get(name=role).pk],
            "trades": ["electrical"],
        },
        follow=True,
    )


def link_in(message) -> str:
    found = LINK.search(message.body)
    assert found, message.body
    return found.group(0)


def test_invite_email_link_set_password_then_log_in(admin_client, alpha_client, people):
    response = invite(admin_client)

    assert "Invitation sent to tina@alpha.example." in response.content.decode()
    tina = User.objects.get(email="tina@alpha.example")
    assert not tina.has_usable_password()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["tina@alpha.example"]
    assert "Alpha Works" in message.subject
    assert "Alpha Works · SmartMaintenance" in message.body  # the organisation in the footer
    url = link_in(message)

    admin_client.logout()
    page = alpha_client.get(url).content.decode()
    assert "tina@alpha.example" in page
    assert "New password" in page and "New password confirmation" in page
    assert ">Set password</button>" in page

    done = alpha_client.post(
        url, {"new_password1": "a-long-Passphrase-9", "new_password2": "a-long-Passphrase-9"}
    )
    assert done.status_code == 302
    assert done["Location"] == "/accounts/login/?email=tina%40alpha.example"
    tina.refresh_from_db()
    assert tina.check_password("a-long-Passphrase-9")

    login = alpha_client.post(
        "/accounts/login/",
        {"username": "tina@alpha.example", "password": "a-long-Passphrase-9"},
    )
    assert login.status_code == 302
    assert alpha_client.get("/accounts/profile/").context["user"] == tina


def test_a_used_link_is_refused(admin_client, alpha_client):
    invite(admin_client)
    url = link_in(mail.outbox[0])
    admin_client.logout()
    alpha_client.post(
        url, {"new_password1": "first-Passphrase-1", "new_password2": "first-Passphrase-1"}
    )

    again = alpha_client.get(url)
    steal = alpha_client.post(
        url, {"new_password1": "other-Passphrase-2", "new_password2": "other-Passphrase-2"}
    )

    assert again.status_code == 410 and "not valid" in again.content.decode()
    assert steal.status_code == 410
    assert User.objects.get(email="tina@alpha.example").check_password("first-Passphrase-1")


def test_an_expired_link_is_refused(admin_client, alpha_client):
    invite(admin_client)
    url = link_in(mail.outbox[0])
    admin_client.logout()

    with time_machine.travel(timezone.now() + INVITATION_MAX_AGE - dt.timedelta(hours=1)):
        assert alpha_client.get(url).status_code == 200
    with time_machine.travel(timezone.now() + INVITATION_MAX_AGE + dt.timedelta(minutes=1)):
        response = alpha_client.post(
            url, {"new_password1": "late-Passphrase-3", "new_password2": "late-Passphrase-3"}
        )
    assert response.status_code == 410
    assert not User.objects.get(email="tina@alpha.example").has_usable_password()


def test_a_tampered_link_is_refused(admin_client, alpha_client):
    invite(admin_client)
    url = link_in(mail.outbox[0])
    assert alpha_client.get(url[:-3] + "x/").status_code == 410


def test_a_weak_password_is_refused_and_the_link_still_works(admin_client, alpha_client):
    invite(admin_client)
    url = link_in(mail.outbox[0])
    admin_client.logout()
    response = alpha_client.post(url, {"new_password1": "123", "new_password2": "123"})
    assert response.status_code == 200
    assert "This password is too short." in response.content.decode()
    assert alpha_client.get(url).status_code == 200


def test_resend_sends_a_fresh_working_link(admin_client, alpha_client):
    invite(admin_client)
    tina = User.objects.get(email="tina@alpha.example")
    page = admin_client.get(f"/accounts/users/{tina.pk}/").content.decode()
    assert "Resend invitation" in page
    mail.outbox.clear()

    response = admin_client.post(f"/accounts/users/{tina.pk}/resend-invitation/", follow=True)

    assert "Invitation sent again to tina@alpha.example." in response.content.decode()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["tina@alpha.example"]
    assert alpha_client.get(link_in(mail.outbox[0])).status_code == 200


def test_resend_is_refused_once_a_password_is_set(admin_client, people):
    mail.outbox.clear()
    manager = people["manager"]
    manager.set_password("x-Passphrase-77")
    manager.save()
    response = admin_client.post(f"/accounts/users/{manager.pk}/resend-invitation/", follow=True)
    assert "already has a password" in response.content.decode()
    assert mail.outbox == []


def test_deactivating_a_user_kills_their_link_and_login(admin_client, alpha_client, people):
    invite(admin_client)
    tina = User.objects.get(email="tina@alpha.example")
    url = link_in(mail.outbox[0])

    response = admin_client.post(f"/accounts/users/{tina.pk}/deactivate/", follow=True)

    assert "tina@alpha.example deactivated" in response.content.decode()
    tina.refresh_from_db()
    assert not tina.is_active
    assert list(tina.groups.values_list("name", flat=True)) == ["Technician"]  # roles kept
    assert alpha_client.get(url).status_code == 410


def test_an_admin_cannot_deactivate_themselves(admin_client, people):
    admin = people["admin"]
    response = admin_client.post(f"/accounts/users/{admin.pk}/deactivate/", follow=True)
    assert "You cannot deactivate your own account." in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active


def test_a_manager_may_neither_invite_resend_nor_deactivate(alpha_client, people):
    alpha_client.force_login(people["manager"])
    mail.outbox.clear()
    admin = people["admin"]
    assert invite(alpha_client).status_code == 403
    assert alpha_client.post(f"/accounts/users/{admin.pk}/resend-invitation/").status_code == 403
    assert alpha_client.post(f"/accounts/users/{admin.pk}/deactivate/").status_code == 403
    assert mail.outbox == []
    admin.refresh_from_db()
    assert admin.is_active
