"""
E-mail notifications: who is told about assignments, status changes,
comments and SLA breaches, that nobody is told about their own action or
about a change that rolled back, that opting out holds, and that the SLA
breach command tells people once.

``django_capture_on_commit_callbacks(execute=True)`` runs the callbacks the
services registered with ``transaction.on_commit`` when its block ends, as a
real commit would; the test's own transaction is never committed.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from accounts.models import NotificationPreference
from accounts.roles import BuiltinRole
from accounts.selectors import notification_preferences_get
from accounts.services import notification_preferences_update
from requests_app.models import MaintenanceRequest, SlaBreachNotice
from requests_app.notifications import requests_notify_sla_breaches
from requests_app.services import (
    request_comment_create,
    request_create,
    request_transition,
    request_update,
)


@pytest.fixture
def people(alpha, make_people):
    return make_people(
        alpha,
        admin=BuiltinRole.ADMIN,
        manager=BuiltinRole.MANAGER,
        tech=BuiltinRole.TECHNICIAN,
        tech2=BuiltinRole.TECHNICIAN,
        ann=BuiltinRole.REQUESTER,
        bob=BuiltinRole.REQUESTER,
    )


@pytest.fixture
def notified(django_capture_on_commit_callbacks):
    """
    Run a block as if it committed, and collect the e-mails it caused:
    ``messages`` as (address, subject) pairs, ``sent`` as ``{address:
    subject}``, ``to`` as the set of local parts.
    """

    class Notified:
        def __init__(self):
            self.messages = []

        def __enter__(self):
            mail.outbox.clear()
            self.capture = django_capture_on_commit_callbacks(execute=True)
            self.capture.__enter__()
            return self

        def __exit__(self, *exc):
            self.capture.__exit__(*exc)
            for message in mail.outbox:
                # One e-mail per person: nobody sees another's address.
                assert len(message.to) == 1
                self.messages.append((message.to[0], message.subject))
            return False

        @property
        def sent(self):
            return dict(self.messages)

        @property
        def to(self):
            return {address.split("@")[0] for address in self.sent}

    return Notified


def assigned_request(people, **fields):
    request = request_create(title="Leaking pipe", requester=people["ann"], **fields)
    request_transition(request=request, to_status="triaged", by=people["manager"])
    request_transition(
        request=request, to_status="assigned", by=people["manager"], assignee=people["tech"]
    )
    return request


def test_assignment_tells_the_assignee_and_the_requester(alpha, people, notified):
    request = request_create(title="Leaking pipe", requester=people["ann"])
    request_transition(request=request, to_status="triaged", by=people["manager"])
    with notified() as sent:
        request_transition(
            request=request,
            to_status="assigned",
            by=people["manager"],
            assignee=people["tech"],
            note="Today",
        )
    # The assignee is told it is theirs (not also that the status changed),
    # the requester that the status changed; the manager who did it, nobody else.
    assert sent.to == {"tech", "ann"}
    assert len(sent.messages) == 2
    assert sent.sent["tech@alpha.example"] == "REQ-000001 assigned to you: Leaking pipe"
    assert sent.sent["ann@alpha.example"] == "REQ-000001 is now assigned: Leaking pipe"
    body = next(m.body for m in mail.outbox if m.to == ["tech@alpha.example"])
    assert "Note: Today" in body
    # https unless DEBUG (tests run with DEBUG off).
    assert f"https://alpha.localhost/requests/{request.pk}/" in body


def test_each_step_is_told_as_it_was_when_it_was_made(alpha, people, notified):
    # Both steps' e-mails go after the second: the triage must still not tell
    # tech (not yet the assignee then), and say "triaged", not "assigned".
    request = request_create(title="Leaking pipe", requester=people["ann"])
    with notified() as sent:
        request_transition(request=request, to_status="triaged", by=people["manager"])
        request_transition(
            request=request, to_status="assigned", by=people["manager"], assignee=people["tech"]
        )
    assert sorted(sent.messages) == [
        ("ann@alpha.example", "REQ-000001 is now assigned: Leaking pipe"),
        ("ann@alpha.example", "REQ-000001 is now triaged: Leaking pipe"),
        ("tech@alpha.example", "REQ-000001 assigned to you: Leaking pipe"),
    ]


def test_reassigning_tells_only_the_new_assignee(alpha, people, notified):
    request = assigned_request(people)
    with notified() as sent:
        request_transition(
            request=request, to_status="assigned", by=people["manager"], assignee=people["tech2"]
        )
    assert sent.to == {"tech2"}


def test_a_status_change_tells_requester_and_assignee_but_not_the_actor(alpha, people, notified):
    request = assigned_request(people)
    with notified() as sent:
        request_transition(request=request, to_status="in_progress", by=people["tech"])
    assert sent.to == {"ann"}
    assert sent.sent["ann@alpha.example"] == "REQ-000001 is now in progress: Leaking pipe"

    request_transition(request=request, to_status="resolved", by=people["tech"])
    with notified() as sent:
        request_transition(
            request=request, to_status="reopened", by=people["ann"], note="Still drips"
        )
    assert sent.to == {"tech"}
    assert "Resolved → Reopened" in mail.outbox[0].body
    assert "Still drips" in mail.outbox[0].body

    with notified() as sent:
        request_transition(request=request, to_status="cancelled", by=people["admin"])
    assert sent.to == {"ann", "tech"}


def test_the_system_closing_a_request_tells_both(alpha, people, notified):
    request = assigned_request(people)
    request_transition(request=request, to_status="in_progress", by=people["tech"])
    request_transition(request=request, to_status="resolved", by=people["tech"])
    with notified() as sent:
        request_transition(request=request, to_status="closed", by=None)
    assert sent.to == {"ann", "tech"}


def test_a_public_reporter_with_an_email_hears_about_status_changes(alpha, people, notified):
    by_mail = request_create(
        title="Broken light", reporter_name="Visitor", reporter_contact="visitor@example.org"
    )
    by_phone = request_create(
        title="Broken door", reporter_name="Caller", reporter_contact="+44 20 7946 0000"
    )
    with notified() as sent:
        request_transition(request=by_mail, to_status="triaged", by=people["manager"])
        request_transition(request=by_phone, to_status="triaged", by=people["manager"])
    assert sent.sent == {"visitor@example.org": "REQ-000001 is now triaged: Broken light"}
    # No account: no link to a page that needs one.
    assert "/requests/" not in mail.outbox[0].body


def test_a_comment_tells_everyone_involved_but_its_author(alpha, people, notified):
    request = assigned_request(people)
    with notified() as sent:
        request_comment_create(request=request, author=people["ann"], body="Any news?")
    assert sent.to == {"tech"}

    with notified() as sent:
        request_comment_create(request=request, author=people["admin"], body="Chasing it")
    assert sent.to == {"ann", "tech"}
    assert "Chasing it" in mail.outbox[0].body

    # The manager has not commented and is neither requester nor assignee.
    with notified() as sent:
        request_comment_create(request=request, author=people["tech"], body="Parts ordered")
    assert sent.to == {"ann", "admin"}
    assert sent.sent["admin@alpha.example"] == "New comment on REQ-000001: Leaking pipe"


def test_nobody_hears_about_what_they_can_no_longer_see(alpha, people, notified):
    request = assigned_request(people)
    request_comment_create(request=request, author=people["tech"], body="On it")
    # Reassigned away: tech no longer sees the request, so is no longer told.
    request_transition(
        request=request, to_status="assigned", by=people["manager"], assignee=people["tech2"]
    )
    with notified() as sent:
        request_comment_create(request=request, author=people["ann"], body="Thanks")
    assert sent.to == {"tech2"}


def test_inactive_users_are_not_emailed(alpha, people, notified):
    request = assigned_request(people)
    people["ann"].is_active = False
    people["ann"].save()
    with notified() as sent:
        request_transition(request=request, to_status="in_progress", by=people["tech"])
        request_comment_create(request=request, author=people["manager"], body="Go")
    assert sent.to == {"tech"}


def test_each_kind_can_be_turned_off(alpha, people, notified):
    assert notification_preferences_get(people["tech"]).assignment is True
    notification_preferences_update(user=people["tech"], assignment=False)
    notification_preferences_update(user=people["ann"], status_change=False)
    request = request_create(title="Leaking pipe", requester=people["ann"])
    with notified() as sent:
        request_transition(request=request, to_status="triaged", by=people["manager"])
        request_transition(
            request=request, to_status="assigned", by=people["manager"], assignee=people["tech"]
        )
    assert sent.sent == {}

    # Turning one kind off leaves the others on.
    with notified() as sent:
        request_comment_create(request=request, author=people["manager"], body="Hi")
    assert sent.to == {"ann", "tech"}

    notification_preferences_update(user=people["tech"], comment=False, assignment=True)
    with notified() as sent:
        request_comment_create(request=request, author=people["ann"], body="Hello")
    assert sent.to == {"manager"}


def test_nothing_is_sent_when_the_transaction_rolls_back(alpha, people, notified):
    request = assigned_request(people)

    class Undo(Exception):
        pass

    with notified() as sent, pytest.raises(Undo), transaction.atomic():
        request_transition(request=request, to_status="in_progress", by=people["tech"])
        request_comment_create(request=request, author=people["tech"], body="Started")
        raise Undo
    assert sent.sent == {}
    request.refresh_from_db()
    assert request.status == "assigned"

    # And nothing is sent before the commit.
    mail.outbox.clear()
    request_transition(request=request, to_status="in_progress", by=people["tech"])
    assert mail.outbox == []


def overdue(request, hours=1):
    MaintenanceRequest.objects.filter(pk=request.pk).update(
        due_at=timezone.now() - timedelta(hours=hours)
    )
    request.refresh_from_db()
    return request


def test_an_sla_breach_tells_the_assignee_and_the_leads_once(alpha, people, notified):
    late = overdue(assigned_request(people))
    unassigned = overdue(request_create(title="No heating", requester=people["bob"]))
    request_create(title="Not due yet", requester=people["bob"])
    done = overdue(assigned_request(people))
    request_transition(request=done, to_status="cancelled", by=people["manager"])
    notification_preferences_update(user=people["admin"], sla_breach=False)

    with notified() as sent:
        assert requests_notify_sla_breaches() == 2
    assert sorted((m.to[0].split("@")[0], m.subject) for m in mail.outbox) == [
        ("manager", "REQ-000001 is overdue: Leaking pipe"),
        ("manager", "REQ-000002 is overdue: No heating"),
        ("tech", "REQ-000001 is overdue: Leaking pipe"),
    ]
    assert SlaBreachNotice.objects.filter(request__in=[late, unassigned]).count() == 2

    with notified() as sent:
        assert requests_notify_sla_breaches() == 0
    assert sent.sent == {}


def test_a_new_due_date_missed_again_is_a_new_breach(alpha, people, notified):
    request = overdue(assigned_request(people), hours=30)
    with notified():
        assert requests_notify_sla_breaches() == 1
    # Lowering the priority moves the due date later; once that passes too, say so again.
    request_update(request=request, by=people["manager"], priority="high")
    request.refresh_from_db()
    assert request.due_at > SlaBreachNotice.objects.get(request=request).due_at
    with notified() as sent:
        assert requests_notify_sla_breaches(now=request.due_at + timedelta(minutes=1)) == 1
    assert sent.to == {"tech", "manager", "admin"}


def test_the_sla_breach_command_run_twice_sends_once(alpha, people, notified, capsys):
    overdue(assigned_request(people))
    with notified() as sent:
        call_command("notify_sla_breaches", "alpha")
    assert sent.to == {"tech", "manager", "admin"}
    assert "alpha: 1 overdue request(s) notified." in capsys.readouterr().out
    with notified() as sent:
        call_command("notify_sla_breaches", "alpha")
    assert sent.sent == {}
    assert "0 overdue request(s) notified." in capsys.readouterr().out


def test_the_preferences_page_turns_kinds_off_for_its_user_only(alpha, alpha_client, people):
    alpha_client.force_login(people["tech"])
    page = alpha_client.get("/accounts/notifications/").content.decode()
    assert 'name="assignment"' in page and "checked" in page
    response = alpha_client.post(
        "/accounts/notifications/", {"status_change": "on", "sla_breach": "on"}, follow=True
    )
    assert "Notification preferences saved." in response.content.decode()
    preference = notification_preferences_get(people["tech"])
    assert (
        preference.assignment,
        preference.status_change,
        preference.comment,
        preference.sla_breach,
    ) == (False, True, False, True)
    # Nobody else's switches moved.
    assert not NotificationPreference.objects.exclude(user=people["tech"]).exists()
