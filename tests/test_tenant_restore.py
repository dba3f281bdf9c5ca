"""
Export -> delete -> restore (issue 15, point 8): the same rows (count and
checksum per table) and the same files, into a new tenant, under a new
subdomain, or into an empty one; bad input writes nothing. See docs/recovery.md.
"""

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tenants.utils import (
    get_public_schema_name,
    schema_context,
    schema_exists,
    tenant_context,
)
from security.attack_world import MARKER, seed

from accounts.models import User
from billing.services import tenant_change_plan
from tenants.exports import table_checksums, tenant_export
from tenants.models import DeletedTenant, Tenant, TenantAuditEntry
from tenants.restore import RestoreError, tenant_restore
from tenants.services import tenant_delete

pytestmark = pytest.mark.django_db


def _files(tenant) -> dict:
    """Every file in the tenant's media folder, by name, with its SHA-256."""
    with tenant_context(tenant):
        found, pending = {}, [""]
        while pending:
            folder = pending.pop()
            try:
                folders, names = default_storage.listdir(folder)
            except FileNotFoundError:
                continue
            pending += [f"{folder}{name}/" for name in folders]
            for name in names:
                with default_storage.open(folder + name, "rb") as file:
                    found[folder + name] = hashlib.sha256(file.read()).hexdigest()
    return found


@pytest.fixture
def omega(make_tenant):
    tenant = make_tenant("omega", status=Tenant.Status.ACTIVE)
    with schema_context(get_public_schema_name()):
        tenant_change_plan(tenant=tenant, plan="premium", actor="test")
    tenant.refresh_from_db()
    with tenant_context(tenant):
        seed(tenant)
    return tenant


def _state(tenant):
    with tenant_context(tenant):
        return table_checksums(), _files(tenant)


def test_export_delete_restore_gives_the_same_rows_and_files(omega, tmp_path):
    rows, files = _state(omega)
    assert rows["accounts.user"]["rows"] >= 1 and rows["attachments.attachment"]["rows"] == 2
    assert len(files) == 2
    path = tenant_export(tenant=omega, path=tmp_path / "omega.zip")
    tenant_delete(tenant=omega, actor="test", export_path=str(path))
    assert not schema_exists(omega.schema_name)

    report = tenant_restore(path=path, actor="test")

    restored = report.tenant
    assert (restored.subdomain, restored.name) == ("omega", omega.name)
    assert restored.schema_name != omega.schema_name  # Schema names are never reused.
    assert (restored.plan, restored.max_users, restored.status) == (
        omega.plan,
        omega.max_users,
        omega.status,
    )
    assert _state(restored) == (rows, files)
    assert report.rows == {label: entry["rows"] for label, entry in rows.items()}
    # The hold is lifted for its own organisation; the record (and so the
    # old schema name) stays.
    assert DeletedTenant.objects.get(subdomain="omega").subdomain_released <= timezone.now()
    assert TenantAuditEntry.objects.filter(tenant=restored, action="restore").exists()


def test_restored_users_have_no_usable_password_and_new_rows_get_new_ids(omega, tmp_path):
    path = tenant_export(tenant=omega, path=tmp_path / "omega.zip")
    tenant_delete(tenant=omega, actor="test")
    restored = tenant_restore(path=path, actor="test").tenant
    with tenant_context(restored):
        user = User.objects.get(email__startswith=MARKER)
        assert not user.has_usable_password()
        highest = User.objects.order_by("-pk").first().pk
        assert User.objects.create(email="new@omega.example").pk > highest


def test_a_platform_admin_restores_under_a_new_subdomain_beside_the_original(omega, tmp_path):
    rows, files = _state(omega)
    path = tenant_export(tenant=omega, path=tmp_path / "omega.zip")
    # The export is in the original's audit log, and in the archive it is not.
    exported = _state(omega)

    out = io.StringIO()
    call_command("tenant_restore", str(path), "--subdomain", "omega-copy", stdout=out)

    copy = Tenant.objects.get(subdomain="omega-copy")
    assert copy.get_primary_domain().domain == "omega-copy.localhost"
    assert _state(copy) == (rows, files)
    assert _state(omega) == exported  # The restore leaves the original untouched.
    assert "Restored" in out.getvalue() and "omega-copy.localhost" in out.getvalue()


def test_a_time_with_less_than_a_millisecond_restores_with_a_matching_checksum(omega, tmp_path):
    # The archive's JSON keeps milliseconds: 12:00:00.000400 comes back as
    # 12:00:00, and the checksums must agree (one row in a thousand did not).
    with tenant_context(omega):
        User.objects.filter(email__startswith=MARKER).update(
            date_joined=timezone.now().replace(microsecond=400)
        )
    rows = _state(omega)[0]
    path = tenant_export(tenant=omega, path=tmp_path / "omega.zip")

    copy = tenant_restore(path=path, subdomain="omega-copy", actor="test").tenant

    assert _state(copy)[0] == rows


def test_restore_into_an_empty_tenant_and_never_into_one_with_data(omega, make_tenant, tmp_path):
    rows, files = _state(omega)
    path = tenant_export(tenant=omega, path=tmp_path / "omega.zip")
    empty = make_tenant("psi", status=Tenant.Status.ACTIVE)

    tenant_restore(path=path, into=empty, actor="test")

    assert _state(empty) == (rows, files)
    with pytest.raises(RestoreError) as refused:
        tenant_restore(path=path, into=empty, actor="test")
    assert refused.value.code == "not_empty"
    assert _state(empty) == (rows, files)


def test_bad_input_is_refused_with_a_message_and_writes_nothing(omega, tmp_path):
    not_a_zip = tmp_path / "notes.zip"
    not_a_zip.write_text("hello")
    tenants_before = Tenant.objects.count()
    with pytest.raises(CommandError, match="not a readable zip"):
        call_command("tenant_restore", str(not_a_zip))
    with pytest.raises(CommandError, match="is not a file"):
        call_command("tenant_restore", str(tmp_path / "missing.zip"))

    path = tenant_export(tenant=omega, path=tmp_path / "omega.zip")
    # omega still exists: its subdomain is taken.
    with pytest.raises(CommandError, match="already taken"):
        call_command("tenant_restore", str(path))
    with pytest.raises(CommandError, match="No organisation"):
        call_command("tenant_restore", str(path), "--into", "nobody")

    # A file named outside the organisation's folder (zip slip).
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(evil, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("media/../../escaped.txt", b"x")
    with pytest.raises(CommandError, match="outside the organisation"):
        call_command("tenant_restore", str(evil), "--subdomain", "evil")

    # A manifest promising rows the files do not hold.
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(forged, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "manifest.json":
                manifest = json.loads(data)
                manifest["models"]["assets.asset"]["rows"] += 1
                data = json.dumps(manifest).encode()
            target.writestr(info.filename, data)
    with pytest.raises(CommandError, match="does not match the export"):
        call_command("tenant_restore", str(forged), "--subdomain", "forged")

    assert Tenant.objects.count() == tenants_before
    assert not Tenant.objects.filter(subdomain__in=["evil", "forged"]).exists()
    assert not schema_exists("t_evil") and not schema_exists("t_forged")
    assert not (Path(tmp_path / "media") / "escaped.txt").exists()


def test_a_tampered_row_fails_the_checksum(omega, tmp_path):
    path = tenant_export(tenant=omega, path=tmp_path / "omega.zip")
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tampered, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "assets.asset.json":
                data = data.replace(MARKER.encode(), b"changed", 1)
            target.writestr(info.filename, data)
    with pytest.raises(RestoreError, match="differ from the export"):
        tenant_restore(path=tampered, subdomain="tampered", actor="test")
    assert not Tenant.objects.filter(subdomain="tampered").exists()
