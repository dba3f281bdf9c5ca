"""
The request pages of the staff UI (issue 12, point 4): the list with its
filters, sorting, pages and bulk assignment; filing and editing with typed
details; one request's page with its actions, history, comments,
attachments and a preventive request's checklist; bounded queries.
"""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.roles import BuiltinRole
from assets import services as asset_services
from attachments.models import Attachment
from billing.services import tenant_change_plan
from preventive import selectors as preventive_selectors
from preventive import services as preventive_services
from preventive.models import ChecklistItem
from requests_app import services
from requests_app.forms import ElectricalDetailsForm, RequestCreateForm
from requests_app.models import (
    ElectricalDetails,
    MaintenanceRequest,
    RequestChange,
    RequestComment,
    Status,
)
from requests_app.views import _add_request_errors
from tenants.services import tenant_update

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def people(alpha, make_people):
    return make_people(
        alpha,
        manager=BuiltinRole.MANAGER,
        tech=BuiltinRole.TECHNICIAN,
        tess=BuiltinRole.TECHNICIAN,
        ann=BuiltinRole.REQUESTER,
        bob=BuiltinRole.REQUESTER,
    )


def file(title, by, **fields):
    return services.request_create(title=title, requester=by, **fields)


def move(request, by, *statuses, assignee=None):
    for status in statuses:
        services.request_transition(
            request=request,
            to_status=status,
            by=by,
            assignee=assignee if status == Status.ASSIGNED else None,
        )
    return request


def references(page: str) -> list[str]:
    """The request references linked from a list page, in their order."""
    return re.findall(r'class="fw-semibold" href="/requests/\d+/">(REQ-\d+)</a>', page)


# --- The list ---------------------------------------------------------------------


def test_the_list_filters_on_every_field_and_searches(alpha, alpha_client, people):
    hq = asset_services.location_create(name="HQ", kind="site")
    plant = asset_services.location_create(name="Plant room", kind="building", parent=hq)
    annex = asset_services.location_create(name="Annex", kind="site")
    boiler = asset_services.asset_create(name="Boiler", asset_tag="B-1", location=plant)
    leak = file("Leaking pipe", people["ann"], type="plumbing", priority="high", asset=boiler)
    spark = file("Sparking socket", people["ann"], type="electrical", priority="urgent")
    door = file("Squeaky door", people["bob"], priority="low", location=annex)
    move(spark, people["manager"], Status.TRIAGED, Status.ASSIGNED, assignee=people["tech"])
    MaintenanceRequest.objects.filter(pk=door.pk).update(due_at=timezone.now() - timedelta(hours=1))

    alpha_client.force_login(people["manager"])

    def listed(query=""):
        response = alpha_client.get(f"/requests/?{query}")
        assert response.status_code == 200
        return references(response.content.decode())

    everything = sorted([leak.reference, spark.reference, door.reference])
    assert sorted(listed()) == everything
    # The form sent with nothing chosen: "any" everywhere.
    empty_form = "search=&status=&type=&priority=&assignee=&asset=&location=&overdue="
    assert sorted(listed(empty_form)) == everything
    assert listed("status=assigned") == [spark.reference]
    assert sorted(listed("status=new&status=assigned")) == sorted(
        [leak.reference, spark.reference, door.reference]
    )
    assert listed("type=plumbing") == [leak.reference]
    assert listed("priority=low") == [door.reference]
    assert listed(f"assignee={people['tech'].pk}") == [spark.reference]
    assert listed(f"asset={boiler.pk}") == [leak.reference]
    # A location covers the locations inside it.
    assert listed(f"location={hq.pk}") == [leak.reference]
    assert listed("overdue=true") == [door.reference]
    assert door.reference not in listed("overdue=false")
    assert listed("search=sparking") == [spark.reference]
    assert listed(f"search={door.number}") == [door.reference]
    assert listed("search=nothing-like-this") == []
    page = alpha_client.get("/requests/?search=nothing-like-this").content.decode()
    assert "No request matches these filters." in page

    # The form shows what was chosen, so the URL is the page.
    page = alpha_client.get("/requests/?priority=low&search=door").content.decode()
    assert '<option value="low" selected>' in page
    assert 'value="door"' in page


def test_a_requester_lists_only_their_own_requests(alpha, alpha_client, people):
    mine = file("Ann's leak", people["ann"])
    file("Bob's door", people["bob"])
    alpha_client.force_login(people["ann"])
    page = alpha_client.get("/requests/").content.decode()
    assert references(page) == [mine.reference]
    assert "Bob&#x27;s door" not in page
    # Filing is theirs; assigning in bulk is not.
    assert "New request" in page
    assert 'name="requests"' not in page and "Assign selected" not in page


def test_bad_filters_are_shown_on_their_field_and_list_nothing(alpha, alpha_client, people):
    file("Leak", people["ann"])
    alpha_client.force_login(people["manager"])
    page = alpha_client.get("/requests/?priority=whenever").content.decode()
    assert "Some filters are not valid" in page
    assert "Select a valid choice" in page
    assert references(page) == []


def test_the_list_sorts_and_pages_keeping_the_query_string(alpha, alpha_client, people):
    priorities = ["low", "medium", "high", "urgent"]
    filed = [
        file(f"Request {n}", people["ann"], priority=priorities[n % 4], type="plumbing")
        for n in range(30)
    ]
    file("Another type", people["ann"], type="electrical")
    alpha_client.force_login(people["manager"])

    first = alpha_client.get("/requests/?type=plumbing").content.decode()
    newest_first = [request.reference for request in reversed(filed)]
    assert references(first) == newest_first[:25]
    assert "31 requests" not in first and "30 requests matching the filters" in first
    # The next page keeps the filter.
    assert 'href="?type=plumbing&amp;page=2"' in first
    second = alpha_client.get("/requests/?type=plumbing&page=2").content.decode()
    assert references(second) == newest_first[25:]
    # A page past the end shows the last one.
    assert (
        references(alpha_client.get("/requests/?type=plumbing&page=9").content.decode())
        == (newest_first[25:])
    )

    by_priority = references(
        alpha_client.get("/requests/?type=plumbing&ordering=-priority").content.decode()
    )
    ranks = {request.reference: priorities.index(request.priority) for request in filed}
    assert [ranks[reference] for reference in by_priority] == sorted(
        (ranks[reference] for reference in by_priority), reverse=True
    )
    assert ranks[by_priority[0]] == 3  # urgent first
    ascending = references(alpha_client.get("/requests/?ordering=number").content.decode())
    assert ascending[0] == filed[0].reference
    # The header of the sorted column links to the other direction, filters kept.
    page = alpha_client.get("/requests/?type=plumbing&ordering=-priority").content.decode()
    assert 'aria-sort="descending"' in page
    assert 'href="?type=plumbing&amp;ordering=priority"' in page
    # An unknown ordering falls back to newest first.
    assert references(alpha_client.get("/requests/?ordering=title").content.decode())[0] == (
        MaintenanceRequest.objects.order_by("-created", "-pk").first().reference
    )


def test_htmx_gets_only_the_results(alpha, alpha_client, people):
    leak = file("Leak", people["ann"], priority="high")
    file("Door", people["ann"], priority="low")
    alpha_client.force_login(people["manager"])
    response = alpha_client.get(
        "/requests/?priority=high&ordering=number", HTTP_HX_TARGET="request-results", **HTMX
    )
    fragment = response.content.decode()
    assert "<html" not in fragment and 'id="request-results"' in fragment
    assert references(fragment) == [leak.reference]
    # The filter form's sort order follows, out of band.
    assert 'id="list-ordering" value="number" hx-swap-oob="true"' in fragment
    full = alpha_client.get("/requests/?priority=high").content.decode()
    assert "<html" in full and 'hx-push-url="true"' in full


def test_a_manager_assigns_several_requests_at_once(alpha, alpha_client, people):
    ready = [
        move(file(f"Ready {n}", people["ann"]), people["manager"], Status.TRIAGED) for n in range(3)
    ]
    alpha_client.force_login(people["manager"])
    page = alpha_client.get("/requests/").content.decode()
    assert "Assign selected" in page and f'name="requests" value="{ready[0].pk}"' in page

    response = alpha_client.post(
        "/requests/assign/",
        {
            "requests": [ready[0].pk, ready[1].pk],
            "assignee": people["tech"].pk,
            "next": "/requests/?status=triaged",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/requests/?status=triaged"
    statuses = dict(MaintenanceRequest.objects.values_list("pk", "assignee"))
    assert statuses[ready[0].pk] == statuses[ready[1].pk] == people["tech"].pk
    assert statuses[ready[2].pk] is None
    page = alpha_client.get(response["Location"]).content.decode()
    assert f"2 requests assigned to {people['tech']}." in page


def test_bulk_assignment_is_all_or_nothing(alpha, alpha_client, people):
    triaged = move(file("Ready", people["ann"]), people["manager"], Status.TRIAGED)
    untriaged = file("Not triaged", people["ann"])
    alpha_client.force_login(people["manager"])
    response = alpha_client.post(
        "/requests/assign/",
        {"requests": [triaged.pk, untriaged.pk], "assignee": people["tech"].pk},
        follow=True,
    )
    page = response.content.decode()
    assert "Nothing was assigned." in page and untriaged.reference in page
    assert not MaintenanceRequest.objects.filter(assignee__isnull=False).exists()

    # Only a technician can be given work; and nothing ticked is an error.
    response = alpha_client.post(
        "/requests/assign/", {"requests": [triaged.pk], "assignee": people["ann"].pk}, follow=True
    )
    assert "Select a valid choice" in response.content.decode()
    response = alpha_client.post("/requests/assign/", {"assignee": people["tech"].pk}, follow=True)
    assert "Tick the requests to assign." in response.content.decode()
    # An off-site "next" is not followed.
    response = alpha_client.post(
        "/requests/assign/", {"assignee": people["tech"].pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/requests/"
    assert not MaintenanceRequest.objects.filter(assignee__isnull=False).exists()


def test_only_leads_assign_in_bulk(alpha, alpha_client, people):
    triaged = move(file("Ready", people["ann"]), people["manager"], Status.TRIAGED)
    for name in ("tech", "ann"):
        alpha_client.force_login(people[name])
        alpha_client.post(
            "/requests/assign/", {"requests": [triaged.pk], "assignee": people["tech"].pk}
        )
    triaged.refresh_from_db()
    assert (triaged.status, triaged.assignee) == ("triaged", None)


# --- Filing and editing ------------------------------------------------------------


def test_filing_an_electrical_request_with_its_details(alpha, alpha_client, people):
    alpha_client.force_login(people["ann"])
    page = alpha_client.get("/requests/new/").content.decode()
    # A fieldset per type, the current type's shown, the others hidden.
    for request_type in ("electrical", "plumbing", "hvac"):
        assert f'data-details-type="{request_type}" hidden disabled' in page
    assert 'name="electrical-voltage"' in page and 'name="hvac-system_type"' in page
    assert "js/request_form.js" in page and "File request" in page

    response = alpha_client.post(
        "/requests/new/",
        {
            "title": "Sparks from the socket",
            "type": "electrical",
            "priority": "high",
            "electrical-voltage": "230",
            "electrical-circuit": "Panel B / 7",
            "electrical-hazard_present": "on",
            # Another type's fields are not read.
            "plumbing-fixture": "Sink",
        },
    )
    request = MaintenanceRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/requests/{request.pk}/"
    details = ElectricalDetails.objects.get(request=request)
    assert (details.voltage, details.circuit, details.hazard_present) == (230, "Panel B / 7", True)
    assert not hasattr(request, "plumbing") or request.details == details
    page = alpha_client.get(response["Location"]).content.decode()
    assert "Panel B / 7" in page and "230" in page


def test_bad_details_show_on_their_field_and_file_nothing(alpha, alpha_client, people):
    alpha_client.force_login(people["ann"])
    response = alpha_client.post(
        "/requests/new/",
        {
            "title": "Too hot",
            "type": "hvac",
            "priority": "medium",
            "hvac-system_type": "warp_core",
            "hvac-reported_temperature": "21.55",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert not MaintenanceRequest.objects.exists()
    # The chosen type's fieldset stays open, its fields marked and explained.
    assert 'data-details-type="hvac" hidden' not in page
    assert re.search(
        r'name="hvac-system_type"[^>]*is-invalid|is-invalid[^>]*name="hvac-system_type"', page
    )
    assert "Select a valid choice" in page
    assert "Ensure that there are no more than 1 decimal place." in page
    # What was typed is kept.
    assert 'value="Too hot"' in page


def test_a_too_long_detail_is_refused_on_its_field(alpha, alpha_client, people):
    alpha_client.force_login(people["ann"])
    response = alpha_client.post(
        "/requests/new/",
        {"title": "Long", "type": "electrical", "priority": "low", "electrical-circuit": "x" * 101},
    )
    page = response.content.decode()
    assert not MaintenanceRequest.objects.exists()
    assert "Ensure this value has at most 100 characters" in page
    assert re.search(
        r'is-invalid[^>]*name="electrical-circuit"|name="electrical-circuit"[^>]*is-invalid', page
    )


def test_the_service_refusal_of_details_lands_on_the_detail_field(alpha):
    # What the form lets through and the service refuses (the API's details.<field>)
    # shows on that detail's field; anything else on the form as a whole.
    form = RequestCreateForm({"title": "x", "type": "electrical", "priority": "low"})
    details_form = ElectricalDetailsForm({"electrical-voltage": "1"}, prefix="electrical")
    assert form.is_valid() and details_form.is_valid()
    refused = services.DetailsRefused({"voltage": ["Too low."], "colour": ["Unknown."]})
    _add_request_errors(form, details_form, refused)
    assert details_form.errors == {"voltage": ["Too low."]}
    assert form.non_field_errors() == ["Unknown."]


def test_a_plumbing_request_may_leave_its_details_to_their_defaults(alpha, alpha_client, people):
    alpha_client.force_login(people["ann"])
    response = alpha_client.post(
        "/requests/new/", {"title": "Drip", "type": "plumbing", "priority": "low"}
    )
    assert response.status_code == 302
    details = MaintenanceRequest.objects.get().plumbing
    assert (details.leak_severity, details.fixture) == ("none", "")


def test_technicians_do_not_file_requests(alpha, alpha_client, people):
    alpha_client.force_login(people["tech"])
    assert alpha_client.get("/requests/new/").status_code == 403
    assert alpha_client.post("/requests/new/", {"title": "x", "type": "general"}).status_code == 403
    assert not MaintenanceRequest.objects.exists()
    assert "New request" not in alpha_client.get("/requests/").content.decode()


def test_editing_follows_the_api_rule(alpha, alpha_client, people):
    request = file(
        "Sparks", people["ann"], type="electrical", details={"voltage": 110, "circuit": "A"}
    )
    alpha_client.force_login(people["ann"])
    page = alpha_client.get(f"/requests/{request.pk}/edit/").content.decode()
    assert 'value="Sparks"' in page and 'value="110"' in page
    # Only the request's own type's details.
    assert 'name="plumbing-fixture"' not in page
    response = alpha_client.post(
        f"/requests/{request.pk}/edit/",
        {
            "title": "Sparks again",
            "priority": "urgent",
            "electrical-voltage": "230",
            "electrical-circuit": "A",
        },
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.title, request.priority, request.electrical.voltage) == (
        "Sparks again",
        "urgent",
        230,
    )
    changes = dict(RequestChange.objects.values_list("field", "new_value"))
    assert changes["details.voltage"] == "230" and changes["title"] == "Sparks again"
    assert "details.circuit" not in changes
    page = alpha_client.get(f"/requests/{request.pk}/").content.decode()
    assert "Voltage</span>: 110 → 230" in page and "Priority</span>: Medium → Urgent" in page

    # A bad detail is refused on its field, nothing saved.
    response = alpha_client.post(
        f"/requests/{request.pk}/edit/",
        {"title": "Sparks", "priority": "low", "electrical-voltage": "-1"},
    )
    assert response.status_code == 200
    request.refresh_from_db()
    assert (request.title, request.electrical.voltage) == ("Sparks again", 230)

    # Once triaged, the requester may no longer edit; the manager still may.
    move(request, people["manager"], Status.TRIAGED)
    assert alpha_client.get(f"/requests/{request.pk}/edit/").status_code == 403
    assert (
        alpha_client.post(f"/requests/{request.pk}/edit/", {"title": "No", "priority": "low"})
    ).status_code == 403
    edit_link = f'href="/requests/{request.pk}/edit/"'
    assert edit_link not in alpha_client.get(f"/requests/{request.pk}/").content.decode()
    alpha_client.force_login(people["manager"])
    assert edit_link in alpha_client.get(f"/requests/{request.pk}/").content.decode()
    response = alpha_client.post(
        f"/requests/{request.pk}/edit/",
        {"title": "Fixed title", "priority": "low", "electrical-voltage": "230"},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.title == "Fixed title"
    # Someone who cannot see it gets a 404, not a form.
    alpha_client.force_login(people["bob"])
    assert alpha_client.get(f"/requests/{request.pk}/edit/").status_code == 404


def test_request_update_checks_details_as_request_create_does(alpha, people):
    request = file("Drip", people["ann"], type="plumbing", details={"fixture": "Sink"})
    with pytest.raises(services.DetailsRefused) as refused:
        services.request_update(
            request=request, by=people["manager"], details={"leak_severity": "tsunami"}
        )
    assert "leak_severity" in refused.value.message_dict
    with pytest.raises(TypeError):
        services.request_update(request=request, by=people["manager"], details={"voltage": 1})
    services.request_update(
        request=request, by=people["manager"], details={"leak_severity": "drip"}
    )
    request.refresh_from_db()
    # Fields not given keep their values.
    assert (request.plumbing.leak_severity, request.plumbing.fixture) == ("drip", "Sink")


# --- One request ------------------------------------------------------------------


def buttons(page: str) -> list[str]:
    """The transition buttons of a request page, by label."""
    return re.findall(r'type="submit" name="to_status" value="\w+">([^<]+)</button>', page)


def test_actions_are_labelled_by_what_they_do_and_follow_the_role(alpha, alpha_client, people):
    request = file("Leak", people["ann"])

    def actions(name):
        alpha_client.force_login(people[name])
        return buttons(alpha_client.get(f"/requests/{request.pk}/").content.decode())

    assert actions("ann") == ["Cancel"]
    assert actions("manager") == ["Triage", "Cancel"]
    # Not the technician's to see yet (unassigned, not of a trade of theirs).
    alpha_client.force_login(people["tech"])
    assert alpha_client.get(f"/requests/{request.pk}/").status_code == 404
    alpha_client.force_login(people["manager"])
    alpha_client.post(f"/requests/{request.pk}/transition/", {"to_status": "triaged"})
    page = alpha_client.get(f"/requests/{request.pk}/").content.decode()
    assert buttons(page) == ["Assign", "Cancel"]
    assert f'<option value="{people["tech"].pk}">' in page
    assert f'<option value="{people["ann"].pk}">' not in page
    alpha_client.post(
        f"/requests/{request.pk}/transition/",
        {"to_status": "assigned", "assignee": people["tech"].pk, "note": "Yours"},
    )
    assert actions("tech") == ["Start work"]
    alpha_client.post(f"/requests/{request.pk}/transition/", {"to_status": "in_progress"})
    assert actions("tech") == ["Put on hold", "Resolve"]
    alpha_client.post(f"/requests/{request.pk}/transition/", {"to_status": "resolved"})
    assert actions("ann") == ["Close", "Reopen"]
    request.refresh_from_db()
    assert request.status == "resolved"


def test_the_assignee_select_is_only_read_when_assigning(alpha, alpha_client, people):
    request = file("Leak", people["ann"])
    alpha_client.force_login(people["manager"])
    # The one form sends the picker with every button: Triage must not trip on it.
    alpha_client.post(
        f"/requests/{request.pk}/transition/",
        {"to_status": "triaged", "assignee": people["tech"].pk},
    )
    request.refresh_from_db()
    assert (request.status, request.assignee) == ("triaged", None)


def test_the_history_sits_beside_the_actions(alpha, alpha_client, people):
    request = file("Leak", people["ann"])
    move(request, people["manager"], Status.TRIAGED, Status.ASSIGNED, assignee=people["tech"])
    services.request_update(request=request, by=people["manager"], priority="urgent")
    alpha_client.force_login(people["manager"])
    page = alpha_client.get(f"/requests/{request.pk}/").content.decode()
    history = page[page.index('id="history-heading"') :]
    assert "Filed" in history
    assert "New → Triaged" in history and "Triaged → Assigned" in history
    assert f"Assignee</span>: — → {people['tech']}" in history
    assert "Priority</span>: Medium → Urgent" in history
    # The status changes are the steps already: not listed twice.
    assert "Status</span>" not in history


def test_comments_are_added_without_a_reload(alpha, alpha_client, people):
    request = file("Leak", people["ann"])
    alpha_client.force_login(people["ann"])
    page = alpha_client.get(f"/requests/{request.pk}/").content.decode()
    assert f'hx-post="/requests/{request.pk}/comment/"' in page and "Add comment" in page

    response = alpha_client.post(
        f"/requests/{request.pk}/comment/", {"body": "Still dripping"}, **HTMX
    )
    fragment = response.content.decode()
    assert response.status_code == 200 and "<html" not in fragment
    assert fragment.lstrip().startswith("<section") and 'id="comments"' in fragment
    assert "Still dripping" in fragment
    assert list(RequestComment.objects.values_list("body", flat=True)) == ["Still dripping"]

    response = alpha_client.post(f"/requests/{request.pk}/comment/", {"body": "  "}, **HTMX)
    assert "This field is required." in response.content.decode()
    assert RequestComment.objects.count() == 1

    # Without htmx: back to the page.
    response = alpha_client.post(f"/requests/{request.pk}/comment/", {"body": "Plain"})
    assert response.status_code == 302 and response["Location"] == f"/requests/{request.pk}/"
    assert RequestComment.objects.count() == 2


def test_attachments_are_added_and_deleted_without_a_reload(
    alpha, alpha_client, people, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    request = file("Leak", people["ann"])
    alpha_client.force_login(people["ann"])
    url = f"/requests/{request.pk}/attachments/"
    response = alpha_client.post(
        url, {"file": SimpleUploadedFile("notes.txt", b"the tap drips", "text/plain")}, **HTMX
    )
    fragment = response.content.decode()
    assert "<html" not in fragment and 'id="attachments"' in fragment
    assert "notes.txt attached." in fragment
    attachment = Attachment.objects.get()
    assert f'href="/requests/attachments/{attachment.pk}/"' in fragment

    response = alpha_client.post(url, {}, **HTMX)
    assert "Choose a file to attach." in response.content.decode()
    assert Attachment.objects.count() == 1

    response = alpha_client.post(f"/requests/attachments/{attachment.pk}/delete/", **HTMX)
    fragment = response.content.decode()
    assert "notes.txt deleted." in fragment and "No attachments yet." in fragment
    assert not Attachment.objects.exists()


@pytest.fixture
def generated(alpha):
    """A preventive request generated with a two-step checklist."""
    with schema_context(get_public_schema_name()):
        tenant_change_plan(tenant=alpha, plan="premium", actor="test")
    alpha.refresh_from_db()
    boiler = asset_services.asset_create(name="Boiler", asset_tag="B-1")
    preventive_services.schedule_create(
        asset=boiler,
        title="Weekly check",
        recurrence="days",
        starts_on=preventive_selectors.tenant_today(),
        steps=["Check pressure", "Bleed radiators"],
    )
    preventive_services.preventive_requests_generate()
    return MaintenanceRequest.objects.get()


def test_a_preventive_request_shows_its_checklist_to_tick(alpha, alpha_client, people, generated):
    first, second = ChecklistItem.objects.order_by("order")
    alpha_client.force_login(people["manager"])
    page = alpha_client.get(f"/requests/{generated.pk}/").content.decode()
    assert 'id="checklist"' in page and "0 of 2 done" in page
    assert "Check pressure" in page and "Weekly check" in page
    assert f'hx-post="/checklist-items/{first.pk}/complete/"' in page

    response = alpha_client.post(f"/checklist-items/{first.pk}/complete/", **HTMX)
    fragment = response.content.decode()
    assert "<html" not in fragment and "1 of 2 done" in fragment
    assert f"Done by {people['manager']}" in fragment
    first.refresh_from_db()
    assert first.completed_by == people["manager"]

    # Whoever cannot see the request cannot tick: as if the item did not exist.
    alpha_client.force_login(people["ann"])
    assert alpha_client.post(f"/checklist-items/{second.pk}/complete/").status_code == 404
    second.refresh_from_db()
    assert second.completed_at is None

    # Other requests have no checklist.
    alpha_client.force_login(people["ann"])
    other = file("Leak", people["ann"])
    assert 'id="checklist"' not in alpha_client.get(f"/requests/{other.pk}/").content.decode()


def test_the_checklist_rule_is_the_service_s(alpha, people, generated):
    item = ChecklistItem.objects.order_by("order").first()
    with pytest.raises(ChecklistItem.DoesNotExist):
        preventive_services.checklist_item_complete(item=item, user=people["bob"])
    done = preventive_services.checklist_item_complete(item=item, user=people["manager"])
    assert done.completed_by == people["manager"]


# --- Bounded queries ------------------------------------------------------------------


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_list_reads_a_bounded_number_of_queries(alpha, alpha_client, people):
    alpha_client.force_login(people["manager"])
    boiler = asset_services.asset_create(name="Boiler", asset_tag="B-1")

    def fill(count):
        for n in range(count):
            request = file(f"R{n}", people["ann"], asset=boiler, type="plumbing")
            move(
                request, people["manager"], Status.TRIAGED, Status.ASSIGNED, assignee=people["tech"]
            )

    url = "/requests/?type=plumbing&overdue=false&ordering=-priority"
    fill(3)
    few = count_queries(alpha_client, url)
    fill(27)
    assert count_queries(alpha_client, url) == few
    assert count_queries(alpha_client, "/requests/?page=2") <= few


def test_a_request_page_reads_a_bounded_number_of_queries(
    alpha, alpha_client, people, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    request = file("Leak", people["ann"], type="electrical", details={"voltage": 230})
    move(request, people["manager"], Status.TRIAGED)
    alpha_client.force_login(people["manager"])

    def fill(count):
        for n in range(count):
            services.request_comment_create(request=request, author=people["ann"], body=f"c{n}")
            services.request_update(request=request, by=people["manager"], title=f"Leak {n}")
            alpha_client.post(
                f"/requests/{request.pk}/attachments/",
                {"file": SimpleUploadedFile(f"n{n}.txt", b"note", "text/plain")},
            )

    url = f"/requests/{request.pk}/"
    fill(3)
    few = count_queries(alpha_client, url)
    fill(27)
    assert count_queries(alpha_client, url) == few


def test_the_forms_read_a_bounded_number_of_queries(alpha, alpha_client, people):
    with schema_context(get_public_schema_name()):
        tenant_update(tenant=alpha, actor="test", max_assets=None)
    alpha.refresh_from_db()
    request = file("Leak", people["ann"], type="hvac")
    alpha_client.force_login(people["manager"])

    def fill(start, count):
        for n in range(start, start + count):
            location = asset_services.location_create(name=f"L{n}", kind="site")
            asset_services.asset_create(name=f"A{n}", asset_tag=f"A-{n}", location=location)

    fill(0, 3)
    few = (
        count_queries(alpha_client, "/requests/new/"),
        count_queries(alpha_client, f"/requests/{request.pk}/edit/"),
    )
    fill(3, 27)
    many = (
        count_queries(alpha_client, "/requests/new/"),
        count_queries(alpha_client, f"/requests/{request.pk}/edit/"),
    )
    assert many == few
