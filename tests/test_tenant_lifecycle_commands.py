"""tenant_export and tenant_delete: what an export holds, and what deletion leaves behind."""

import csv
import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import (
    get_public_schema_name,
    schema_context,
    schema_exists,
    tenant_context,
)

from accounts.models import User
from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from assets.services import asset_create
from billing.services import tenant_create
from requests_app.services import request_create
from tenants.models import DeletedTenant, Domain, Tenant, TenantAuditEntry
from tenants.services import SUBDOMAIN_HOLD_PERIOD

pytestmark = pytest.mark.django_db

PASSWORD = "Sturdy-pass-2024"


def populate(tenant, marker):
    """Give ``tenant`` two users with roles, an asset and a request, all naming ``marker``."""
    with tenant_context(tenant):
        roles = roles_provision_defaults()
        user_create(
            email=f"admin@{marker}.example",
            password=PASSWORD,
            full_name=f"{marker.title()} Admin",
            roles=[roles[BuiltinRole.ADMIN]],
        )
        user_create(
            email=f"requester@{marker}.example",
            password=PASSWORD,
            full_name=f"{marker.title()} Requester",
            roles=[roles[BuiltinRole.REQUESTER]],
        )
        asset_create(name=f"{marker} boiler", asset_tag=f"{marker.upper()}-001")
        request_create(title=f"{marker} boiler leaks", description="Water on the floor.")
        # Check the deferred foreign keys now, as the commit would in real use:
        # PostgreSQL refuses to drop tables with such checks still pending.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def export(subdomain, path):
    out = io.StringIO()
    call_command("tenant_export", subdomain, output=path, stdout=out)
    return out.getvalue()


def members(path):
    """Every member of the zip at ``path``, as text."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def rows(files, label):
    return json.loads(files[f"{label}.json"]), list(
        csv.DictReader(io.StringIO(files[f"{label}.csv"]))
    )


def delete(subdomain, **options):
    out = io.StringIO()
    call_command("tenant_delete", subdomain, stdout=out, **options)
    return out.getvalue()


def assert_intact(tenant):
    with schema_context(get_public_schema_name()):
        assert Tenant.objects.filter(pk=tenant.pk, schema_name=tenant.schema_name).exists()
        assert Domain.objects.filter(tenant_id=tenant.pk).exists()
        assert not DeletedTenant.objects.filter(subdomain=tenant.subdomain).exists()
    assert schema_exists(tenant.schema_name)
    with tenant_context(tenant):
        assert User.objects.filter(email=f"admin@{tenant.subdomain}.example").exists()


# --- export ------------------------------------------------------------------


def test_export_holds_every_tenant_model_with_its_rows(alpha, tmp_path):
    populate(alpha, "alpha")
    path = tmp_path / "alpha.zip"

    output = export("alpha", path)

    assert str(path) in output
    files = members(path)
    tenant_models = {
        model._meta.label_lower
        for app in settings.TENANT_APPS
        for model in apps.get_app_config(app.rsplit(".", 1)[-1]).get_models()
    }
    labels = tenant_models - {"contenttypes.contenttype", "sessions.session"}
    assert {
        "accounts.user",
        "auth.group",
        "auth.permission",
        "assets.asset",
        "assets.location",
        "requests_app.maintenancerequest",
    } <= labels
    assert set(files) == (
        {f"{label}.{ext}" for label in labels for ext in ("json", "csv")}
        | {"tenant.json", "manifest.json"}
    )

    users, user_rows = rows(files, "accounts.user")
    by_email = {user["fields"]["email"]: user for user in users}
    assert set(by_email) == {"admin@alpha.example", "requester@alpha.example"}
    admin = by_email["admin@alpha.example"]
    assert admin["model"] == "accounts.user"
    assert admin["fields"]["full_name"] == "Alpha Admin"
    assert admin["fields"]["groups"] == [["Admin"]]  # roles by natural key
    assert [row["email"] for row in user_rows] == [user["fields"]["email"] for user in users]
    assert {row["email"]: row["groups"] for row in user_rows} == {
        "admin@alpha.example": '["Admin"]',
        "requester@alpha.example": '["Requester"]',
    }

    groups, _ = rows(files, "auth.group")
    requester_role = next(g for g in groups if g["fields"]["name"] == "Requester")
    assert ["add_maintenancerequest", "requests_app", "maintenancerequest"] in requester_role[
        "fields"
    ]["permissions"]

    (asset,), (asset_row,) = rows(files, "assets.asset")
    assert asset["fields"]["name"] == "alpha boiler"
    assert asset["fields"]["asset_tag"] == "ALPHA-001"
    assert asset_row["id"] == str(asset["pk"])
    assert (asset_row["name"], asset_row["asset_tag"]) == ("alpha boiler", "ALPHA-001")

    (request,), (request_row,) = rows(files, "requests_app.maintenancerequest")
    assert request["fields"]["title"] == "alpha boiler leaks"
    assert request_row["description"] == "Water on the floor."

    manifest = json.loads(files["manifest.json"])
    assert manifest["format_version"] == 1
    assert manifest["tenant"] == {
        "name": "Alpha Works",
        "subdomain": "alpha",
        "schema_name": alpha.schema_name,
    }
    counts = {label: entry["rows"] for label, entry in manifest["models"].items()}
    assert set(counts) == labels
    assert {label: counts[label] for label in
            ("accounts.user", "auth.group", "assets.asset", "requests_app.maintenancerequest")} == {
        "accounts.user": 2,
        "auth.group": len(BuiltinRole),
        "assets.asset": 1,
        "requests_app.maintenancerequest": 1,
    }  # fmt: skip
    assert counts["auth.permission"] == len(json.loads(files["auth.permission.json"]))
    assert set(manifest["excluded_models"]) == {"contenttypes.contenttype", "sessions.session"}

    tenant = json.loads(files["tenant.json"])
    assert tenant["name"] == "Alpha Works"
    assert tenant["subdomain"] == "alpha"
    assert tenant["plan"] == "free"
    assert tenant["max_users"] == 3
    assert tenant["domains"] == ["alpha.localhost"]
    assert "settings" not in tenant


def test_export_never_contains_password_hashes(alpha, tmp_path):
    populate(alpha, "alpha")
    hashes = list(User.objects.values_list("password", flat=True))
    assert all(hashes)

    export("alpha", tmp_path / "alpha.zip")
    files = members(tmp_path / "alpha.zip")

    for name, text in files.items():
        assert "pbkdf2_sha256$" not in text, name
        assert not any(password_hash in text for password_hash in hashes), name
    users, user_rows = rows(files, "accounts.user")
    assert all("password" not in user["fields"] for user in users)
    assert "password" not in user_rows[0]
    manifest = json.loads(files["manifest.json"])
    assert manifest["models"]["accounts.user"]["redacted_fields"] == ["password"]


def test_export_holds_only_that_tenants_data(alpha, beta, tmp_path):
    populate(alpha, "alpha")
    populate(beta, "beta")

    export("beta", tmp_path / "beta.zip")
    files = members(tmp_path / "beta.zip")

    users, _ = rows(files, "accounts.user")
    assert {user["fields"]["email"] for user in users} == {
        "admin@beta.example",
        "requester@beta.example",
    }
    for name, text in files.items():
        assert "alpha" not in text.lower(), name
    assert json.loads(files["tenant.json"])["schema_name"] == beta.schema_name


def test_export_csv_defuses_spreadsheet_formulas_but_json_keeps_the_text(alpha, tmp_path):
    with tenant_context(alpha):
        request_create(title='=HYPERLINK("http://evil.example","Open")')

    export("alpha", tmp_path / "alpha.zip")
    files = members(tmp_path / "alpha.zip")

    (request,), (request_row,) = rows(files, "requests_app.maintenancerequest")
    assert request["fields"]["title"] == '=HYPERLINK("http://evil.example","Open")'
    assert request_row["title"] == '\'=HYPERLINK("http://evil.example","Open")'


def test_export_includes_uploaded_files_and_logo_of_that_tenant_only(
    alpha, beta, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Changing this one makes django-tenants' storage forget the old MEDIA_ROOT.
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
    with tenant_context(alpha):
        default_storage.save("attachments/pump.txt", ContentFile(b"alpha's pump manual"))
    with tenant_context(beta):
        default_storage.save("attachments/secret.txt", ContentFile(b"beta's plan"))
    with schema_context(get_public_schema_name()):
        alpha.logo.name = default_storage.save("branding/alpha.png", ContentFile(b"PNG"))
        alpha.save(update_fields=["logo"])

    path = tmp_path / "alpha.zip"
    export("alpha", path)

    with zipfile.ZipFile(path) as archive:
        assert archive.read("media/attachments/pump.txt") == b"alpha's pump manual"
        assert archive.read("tenant/branding/alpha.png") == b"PNG"
        assert not [name for name in archive.namelist() if "secret" in name]
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["media_files"] == 1
    assert manifest["logo"] == "tenant/branding/alpha.png"


def test_export_goes_to_a_timestamped_file_under_data_exports_by_default(alpha, settings, tmp_path):
    settings.BASE_DIR = tmp_path

    out = io.StringIO()
    call_command("tenant_export", "alpha", stdout=out)

    (path,) = (tmp_path / ".data" / "exports").iterdir()
    assert re.fullmatch(r"alpha-\d{8}T\d{6}Z\.zip", path.name)
    assert str(path) in out.getvalue()
    assert "accounts.user.json" in members(path)


def test_export_of_an_unknown_subdomain_fails_clearly(db, tmp_path):
    with pytest.raises(CommandError, match='No organisation has the subdomain "nosuch"'):
        export("nosuch", tmp_path / "nosuch.zip")
    with pytest.raises(CommandError, match="platform's own tenant"):
        export("public", tmp_path / "public.zip")
    assert list(tmp_path.iterdir()) == []


def test_export_never_overwrites_a_file(alpha, tmp_path):
    path = tmp_path / "alpha.zip"
    path.write_text("an earlier export")

    with pytest.raises(CommandError, match="already exists"):
        export("alpha", path)

    assert path.read_text() == "an earlier export"

    with pytest.raises(CommandError, match="Not a directory"):
        export("alpha", path / "alpha.zip")
    assert [p.name for p in tmp_path.iterdir()] == ["alpha.zip"]


def test_a_failed_export_leaves_no_file_behind(alpha, tmp_path, monkeypatch):
    populate(alpha, "alpha")

    # The disk fills up while the manifest, the last member, is written.
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", disk_full)

    with pytest.raises(CommandError, match="No space left on device"):
        export("alpha", tmp_path / "alpha.zip")

    assert list(tmp_path.iterdir()) == []


# --- delete ------------------------------------------------------------------


def test_delete_without_confirmation_fails_and_writes_nothing(make_tenant, tmp_path):
    tenant = make_tenant("doomed")
    populate(tenant, "doomed")

    with pytest.raises(CommandError, match="pass --confirm doomed"):
        delete("doomed", interactive=False, output=tmp_path / "doomed.zip")
    with pytest.raises(CommandError, match='--confirm "dooomed" does not match'):
        delete("doomed", interactive=False, confirm="dooomed", output=tmp_path / "doomed.zip")

    assert_intact(tenant)
    assert list(tmp_path.iterdir()) == []


def test_delete_refused_at_the_prompt_keeps_the_tenant_and_its_export(
    make_tenant, tmp_path, monkeypatch
):
    tenant = make_tenant("doomed")
    populate(tenant, "doomed")
    monkeypatch.setattr("builtins.input", lambda prompt: "acme")

    with pytest.raises(CommandError, match="Not confirmed; nothing was deleted"):
        delete("doomed", output=tmp_path / "doomed.zip")

    assert_intact(tenant)
    assert "accounts.user.json" in members(tmp_path / "doomed.zip")


def test_delete_with_confirmation_drops_everything_but_keeps_the_export(make_tenant, tmp_path):
    tenant = make_tenant("doomed")
    populate(tenant, "doomed")
    path = tmp_path / "doomed.zip"

    output = delete("doomed", interactive=False, confirm="doomed", output=path)

    assert not schema_exists(tenant.schema_name)
    with schema_context(get_public_schema_name()):
        assert not Tenant.objects.filter(subdomain="doomed").exists()
        assert not Tenant.objects.filter(schema_name=tenant.schema_name).exists()
        assert not Domain.objects.filter(domain="doomed.localhost").exists()
        tombstone = DeletedTenant.objects.get(subdomain="doomed")
        entry = TenantAuditEntry.objects.get(tenant_name=tenant.name, action="delete")
    assert tombstone.schema_name == tenant.schema_name
    assert tombstone.export_path == str(path)
    assert tombstone.subdomain_released == tombstone.deleted + SUBDOMAIN_HOLD_PERIOD
    assert entry.actor.startswith("command:tenant_delete")
    assert str(path) in output
    assert f"held until {tombstone.subdomain_released:%Y-%m-%d}" in output

    users, _ = rows(members(path), "accounts.user")
    assert {user["fields"]["email"] for user in users} == {
        "admin@doomed.example",
        "requester@doomed.example",
    }
    with pytest.raises(CommandError, match=f"was deleted on .*Its export is at {path}"):
        export("doomed", tmp_path / "again.zip")


def test_delete_confirmed_at_the_prompt(make_tenant, tmp_path, monkeypatch):
    tenant = make_tenant("doomed")
    prompts = []
    monkeypatch.setattr("builtins.input", lambda prompt: prompts.append(prompt) or "doomed")

    delete("doomed", output=tmp_path / "doomed.zip")

    assert prompts == ["Type the subdomain (doomed) to confirm: "]
    assert not schema_exists(tenant.schema_name)
    with schema_context(get_public_schema_name()):
        assert DeletedTenant.objects.filter(subdomain="doomed").exists()


def test_delete_aborts_when_the_export_fails(make_tenant, tmp_path, monkeypatch):
    tenant = make_tenant("doomed")
    populate(tenant, "doomed")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", disk_full)

    with pytest.raises(CommandError, match="Could not write the export"):
        delete("doomed", interactive=False, confirm="doomed", output=tmp_path / "doomed.zip")

    assert_intact(tenant)
    assert list(tmp_path.iterdir()) == []


def test_delete_refuses_the_platform_and_unknown_subdomains(db, tmp_path):
    for name in ("public", "localhost"):
        with pytest.raises(CommandError, match="platform's own tenant"):
            delete(name, interactive=False, confirm=name, output=tmp_path / "x.zip")
    with pytest.raises(CommandError, match='No organisation has the subdomain "nosuch"'):
        delete("nosuch", interactive=False, confirm="nosuch", output=tmp_path / "x.zip")
    with schema_context(get_public_schema_name()):
        assert Tenant.objects.filter(schema_name=get_public_schema_name()).exists()
    assert schema_exists(get_public_schema_name())
    assert list(tmp_path.iterdir()) == []


def test_a_deleted_subdomain_is_held_then_released_with_a_new_schema(make_tenant, tmp_path):
    tenant = make_tenant("doomed")
    delete("doomed", interactive=False, confirm="doomed", output=tmp_path / "doomed.zip")
    deleted_at = timezone.now()

    def sign_up():
        with schema_context(get_public_schema_name()):
            return tenant_create(name="Newcomer", subdomain="doomed")

    with pytest.raises(ValidationError) as held:
        sign_up()
    assert held.value.code == "held"
    with time_machine.travel(deleted_at + SUBDOMAIN_HOLD_PERIOD - timedelta(hours=1)):
        with pytest.raises(ValidationError) as still_held:
            sign_up()
        assert still_held.value.code == "held"

    with time_machine.travel(deleted_at + SUBDOMAIN_HOLD_PERIOD + timedelta(minutes=1)):
        newcomer = sign_up()

    assert newcomer.subdomain == "doomed"
    assert newcomer.schema_name != tenant.schema_name
    assert schema_exists(newcomer.schema_name)
    with tenant_context(newcomer):
        assert not User.objects.exists()
