"""
The moves of issue 10 keep tables, rows and permissions: a tenant schema in the
old layout (preventive maintenance in assets; Attachment and TechnicianTrade in
requests_app), holding data, migrates to the new one (the preventive,
attachments and accounts apps) and every row is still there, read through the
new models, and a custom role keeps its permissions on the moved models.

The moves are state-only, so the old layout's tables are the new one's. What
differs is what the database records: which migrations ran, and the content
types' app labels. The test takes a fresh tenant, puts those two back as they
were before the moves, writes through the historical models of the old state,
and runs the migrations forward. (Migrating backwards would do the same, but
renders the whole project state at every step: minutes instead of seconds.)
"""

from datetime import date

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django_tenants.utils import tenant_context

from accounts.models import TechnicianTrade, User
from attachments.models import Attachment
from preventive.models import MaintenanceSchedule

OLD_LAYOUT = [
    ("accounts", "0003_apikey"),
    ("assets", "0003_preventive_maintenance"),
    ("requests_app", "0007_dashboard_rollup"),
    ("attachments", None),
    ("preventive", None),
]
MOVED = {
    "assets": ["maintenanceschedule", "checkliststep", "scheduledoccurrence", "checklistitem"],
    "requests_app": ["attachment", "techniciantrade"],
}


def _old_layout_with_data(old):
    """Rows in every moved table, and a custom role holding permissions on them."""
    user = old.get_model("accounts", "User").objects.create(email="old@layout.example")
    old.get_model("requests_app", "TechnicianTrade").objects.create(user=user, trade="hvac")
    asset = old.get_model("assets", "Asset").objects.create(
        name="Boiler", asset_tag="B-1", report_token="layout-token"
    )
    request = old.get_model("requests_app", "MaintenanceRequest").objects.create(
        number=1, title="Boiler check (2026-03-02)", asset=asset
    )
    schedule = old.get_model("assets", "MaintenanceSchedule").objects.create(
        asset=asset, title="Boiler check", recurrence="weeks", starts_on=date(2026, 3, 2)
    )
    old.get_model("assets", "ChecklistStep").objects.create(
        schedule=schedule, order=1, text="Bleed the radiators"
    )
    occurrence = old.get_model("assets", "ScheduledOccurrence").objects.create(
        schedule=schedule, due_on=date(2026, 3, 2), request=request
    )
    old.get_model("assets", "ChecklistItem").objects.create(
        occurrence=occurrence, order=1, text="Bleed the radiators", completed_by=user
    )
    old.get_model("requests_app", "Attachment").objects.create(
        file="attachments/2026/03/x.txt",
        original_name="note.txt",
        content_type="text/plain",
        size=4,
        request=request,
        uploaded_by=user,
    )
    permissions = old.get_model("auth", "Permission").objects.filter(
        content_type__app_label="assets", codename="view_maintenanceschedule"
    ) | old.get_model("auth", "Permission").objects.filter(
        content_type__app_label="requests_app", codename="delete_attachment"
    )
    assert permissions.count() == 2
    role = old.get_model("auth", "Group").objects.create(name="Planner")
    role.permissions.set(permissions)
    user.groups.add(role)


def _back_to_the_old_layout(executor):
    """Unrecord the migrations after OLD_LAYOUT and give the content types their old labels."""
    old_nodes = [node for node in OLD_LAYOUT if node[1] is not None]
    graph, recorder = executor.loader.graph, MigrationRecorder(connection)
    kept = {node for target in old_nodes for node in graph.forwards_plan(target)}
    for app_label, name in set(recorder.applied_migrations()) - kept:
        if app_label in {"accounts", "assets", "requests_app", "attachments", "preventive"}:
            recorder.record_unapplied(app_label, name)
    new_labels = ["accounts", "attachments", "preventive"]
    for old_label, models in MOVED.items():
        ContentType.objects.filter(app_label__in=new_labels, model__in=models).update(
            app_label=old_label
        )
    ContentType.objects.clear_cache()
    return executor.loader.project_state(old_nodes)


def test_a_schema_in_the_old_layout_keeps_its_rows_and_permissions(make_tenant):
    tenant = make_tenant("layout")
    with tenant_context(tenant):
        executor = MigrationExecutor(connection)
        latest = executor.loader.graph.leaf_nodes()
        old_state = _back_to_the_old_layout(executor)
        labels = set(ContentType.objects.values_list("app_label", "model"))
        assert {("assets", "maintenanceschedule"), ("requests_app", "attachment")} <= labels
        assert not {label for label, _model in labels} & {"attachments", "preventive"}
        _old_layout_with_data(old_state.apps)

        executor.loader.build_graph()
        assert executor.migration_plan(latest)  # the moves are still to run
        executor.migrate(latest)
        executor.loader.build_graph()
        assert not executor.migration_plan(latest)
        ContentType.objects.clear_cache()

        user = User.objects.get(email="old@layout.example")
        assert list(TechnicianTrade.objects.filter(user=user).values_list("trade")) == [("hvac",)]
        schedule = MaintenanceSchedule.objects.get(title="Boiler check")
        assert [step.text for step in schedule.steps.all()] == ["Bleed the radiators"]
        (occurrence,) = schedule.occurrences.all()
        assert (occurrence.due_on, occurrence.request.title) == (
            date(2026, 3, 2),
            "Boiler check (2026-03-02)",
        )
        assert [(item.text, item.completed_by) for item in occurrence.checklist.all()] == [
            ("Bleed the radiators", user)
        ]
        (attachment,) = Attachment.objects.all()
        assert (attachment.original_name, attachment.request, attachment.uploaded_by) == (
            "note.txt",
            occurrence.request,
            user,
        )
        # The content types moved with the models, so the role's permissions did too.
        labels = set(ContentType.objects.values_list("app_label", "model"))
        for old_label, models in MOVED.items():
            assert not {(old_label, model) for model in models} & labels
        assert ("accounts", "techniciantrade") in labels
        role = Group.objects.get(name="Planner")
        assert sorted(
            f"{p.content_type.app_label}.{p.codename}" for p in role.permissions.all()
        ) == ["attachments.delete_attachment", "preventive.view_maintenanceschedule"]
        assert user.has_perm("preventive.view_maintenanceschedule")
        assert user.has_perm("attachments.delete_attachment")
