"""
Load an organisation's export (tenants.exports) back: into a new tenant, or
into an existing one that holds nothing yet, optionally under another
subdomain. Everything happens in one transaction, and the result is checked
against the export before it commits: the same rows per table (count and
checksum, ``tenants.exports.table_checksums``), the same files. See
docs/recovery.md.

Secrets never left with the export, so none come back: restored users have
no usable password (they reset it), restored API keys match no key, and
every other redacted field gets a fresh random value (a webhook endpoint's
signing secret: its receivers must be given the new one).
"""

import json
import secrets
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import serializers
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from tenants.exports import FORMAT_VERSION, export_models, redacted_fields, table_checksums
from tenants.models import DeletedTenant, Tenant
from tenants.services import audit, tenant_create

# tenant.json fields given to the new tenant as they were. Subdomain, schema
# name, domains and logo are decided here; dates are parsed.
RESTORED_TENANT_FIELDS = [
    "name",
    "status",
    "plan",
    "max_users",
    "max_assets",
    "max_requests_per_month",
    "feature_overrides",
    "primary_color",
    "secondary_color",
    "billing_email",
    "contact_name",
    "contact_phone",
    "timezone",
    "onboarded",
]
DATE_FIELDS = ["trial_ends", "subscription_expires"]


class RestoreError(ValidationError):
    """The export cannot be restored as asked; nothing was written."""


@dataclass
class RestoreReport:
    tenant: Tenant
    rows: dict = field(default_factory=dict)
    media_files: int = 0
    skipped_domains: list = field(default_factory=list)


def tenant_restore(
    *, path, subdomain: str | None = None, into: Tenant | None = None, actor: str
) -> RestoreReport:
    """
    Restore the export at ``path``.

    Without ``into``, a new tenant is created at ``subdomain`` (default: the
    exported one; a subdomain still held after the deletion of this very
    organisation is released for it). With ``into``, the export is loaded
    into that existing tenant, which must hold no data yet. Raise
    RestoreError, writing nothing, if the archive is not a usable export,
    the subdomain is not free, the target is not empty, or the restored rows
    do not match the export.
    """
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise RestoreError(f"{path} is not a readable zip file: {error}", code="archive") from error
    with archive:
        manifest, tenant_row = _read_header(archive)
        media = _media_members(archive)
        with transaction.atomic():
            if into is None:
                tenant = _new_tenant(tenant_row, manifest, subdomain, actor)
            else:
                tenant = into
                _require_empty(tenant)
            with tenant_context(tenant):
                _flush()
                rows = _load_rows(archive, manifest)
                _check(manifest, rows)
                files = _write_media(archive, media)
            with schema_context(get_public_schema_name()):
                _restore_logo(archive, manifest, tenant)
                audit(
                    tenant,
                    actor=actor,
                    action="restore",
                    changes={
                        "from": [manifest["tenant"]["subdomain"], tenant.subdomain],
                        "exported_at": [None, manifest["exported_at"]],
                    },
                )
    kept = {tenant.get_primary_domain().domain}
    skipped = [d for d in tenant_row.get("domains", []) if d not in kept]
    return RestoreReport(
        tenant=tenant, rows=rows, media_files=files, skipped_domains=sorted(skipped)
    )


def _read_header(archive: zipfile.ZipFile) -> tuple[dict, dict]:
    try:
        manifest = json.loads(archive.read("manifest.json"))
        tenant_row = json.loads(archive.read("tenant.json"))
    except (KeyError, ValueError) as error:
        raise RestoreError(
            "The archive has no readable manifest.json and tenant.json: not an export.",
            code="archive",
        ) from error
    if manifest.get("format_version") != FORMAT_VERSION:
        raise RestoreError(
            "Export format %(found)s cannot be restored by this version (it reads %(ours)s).",
            code="format_version",
            params={"found": manifest.get("format_version"), "ours": FORMAT_VERSION},
        )
    return manifest, tenant_row


def _media_members(archive: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, str]]:
    """The uploaded files, each with its storage name; a name leaving the folder is refused."""
    members = []
    for info in archive.infolist():
        if not info.filename.startswith("media/") or info.is_dir():
            continue
        name = PurePosixPath(info.filename[len("media/") :])
        if name.is_absolute() or ".." in name.parts or not name.parts:
            raise RestoreError(
                "The archive names a file outside the organisation's folder: %(name)s",
                code="unsafe_path",
                params={"name": info.filename},
            )
        members.append((info, str(name)))
    return members


def _new_tenant(tenant_row: dict, manifest: dict, subdomain: str | None, actor: str) -> Tenant:
    subdomain = (subdomain or tenant_row["subdomain"]).strip().lower()
    with schema_context(get_public_schema_name()):
        # The organisation coming back may take its own subdomain, held since
        # its deletion; the hold keeps strangers out, not its owner. The
        # record stays, so its schema name is still never reused.
        DeletedTenant.objects.filter(
            subdomain=subdomain,
            schema_name=manifest["tenant"]["schema_name"],
            subdomain_released__gt=timezone.now(),
        ).update(subdomain_released=timezone.now())
        values = {name: tenant_row[name] for name in RESTORED_TENANT_FIELDS if name in tenant_row}
        for name in DATE_FIELDS:
            values[name] = parse_datetime(tenant_row[name]) if tenant_row.get(name) else None
        status = values.pop("status")
        trial_ends = values.pop("trial_ends")
        try:
            tenant = tenant_create(subdomain=subdomain, status=status, actor=actor, **values)
        except ValidationError as error:
            raise RestoreError(error.messages, code="tenant") from error
        if tenant.trial_ends != trial_ends:
            tenant.trial_ends = trial_ends
            tenant.save(update_fields=["trial_ends"])
    return tenant


def _restore_logo(archive: zipfile.ZipFile, manifest: dict, tenant: Tenant) -> None:
    """The logo, uploaded through the public site, back into the public storage."""
    member = manifest.get("logo")
    if not member or member not in archive.namelist():
        return
    tenant.logo.save(PurePosixPath(member).name, ContentFile(archive.read(member)), save=True)


def _require_empty(tenant: Tenant) -> None:
    """
    Refuse a tenant that is in use: one with users or uploaded files. A
    fresh tenant has neither (its roles, counters and such come with the
    template and are replaced by the export's); everything an organisation
    enters is entered by its people, its uploads aside.
    """
    if tenant.is_public:
        raise RestoreError("The platform's own tenant cannot be restored into.", code="public")
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    with tenant_context(tenant):
        has_users = user_model._base_manager.exists()
        has_files = default_storage.exists("") and any(default_storage.listdir(""))
    if has_users or has_files:
        raise RestoreError(
            "%(name)s is not empty (it has %(what)s); restore into a new tenant instead.",
            code="not_empty",
            params={"name": tenant.name, "what": "users" if has_users else "uploaded files"},
        )


def _flush() -> None:
    """Empty the exported tables (the template's roles included): the export replaces them."""
    tables = set(connection.introspection.table_names())
    exported, _excluded = export_models()
    names = [m._meta.db_table for m in exported if m._meta.db_table in tables]
    names += [
        f.remote_field.through._meta.db_table
        for m in exported
        for f in m._meta.local_many_to_many
        if f.remote_field.through._meta.auto_created
    ]
    statements = connection.ops.sql_flush(
        no_style(), sorted(set(names) & tables), reset_sequences=False, allow_cascade=False
    )
    connection.ops.execute_sql_flush(statements)


def _load_rows(archive: zipfile.ZipFile, manifest: dict) -> dict:
    """
    Every model's rows. Foreign keys by id are checked at commit (PostgreSQL
    defers them); one by natural key to a row of a later file (a user's
    roles, say) is filled in once every file is loaded, as loaddata does.
    """
    counts, deferred = {}, []
    for label in _dependency_order(list(manifest["models"])):
        entry = manifest["models"][label]
        model = apps.get_model(label)
        redacted = redacted_fields(model)
        count = 0
        with archive.open(entry["json"]) as member:
            for restored in serializers.deserialize("json", member, handle_forward_references=True):
                _fill_redacted(restored.object, redacted)
                restored.save()
                if restored.deferred_fields:
                    deferred.append(restored)
                count += 1
        counts[label] = count
        _reset_sequence(model)
    for restored in deferred:
        restored.save_deferred_fields()
    return counts


def _dependency_order(labels: list[str]) -> list[str]:
    """
    ``labels`` with each model after the models its foreign keys point to
    (some constraints are not deferrable); a cycle keeps the given order.
    """
    remaining, ordered = list(labels), []
    while remaining:
        for label in remaining:
            model = apps.get_model(label)
            targets = {
                f.related_model._meta.label_lower
                for f in model._meta.concrete_fields
                if f.is_relation and f.related_model is not model
            }
            if not targets & (set(remaining) - {label}):
                break
        else:
            label = remaining[0]
        remaining.remove(label)
        ordered.append(label)
    return ordered


def _fill_redacted(obj, redacted: list[str]) -> None:
    for name in redacted:
        field_ = obj._meta.get_field(name)
        if field_.many_to_many or field_.is_relation:
            continue
        if name == "password":
            setattr(obj, name, make_password(None))
        elif field_.has_default() and callable(field_.default):
            setattr(obj, name, field_.default())
        elif field_.null:
            setattr(obj, name, None)
        else:
            value = "!" + secrets.token_urlsafe(32)
            setattr(obj, name, value[: field_.max_length] if field_.max_length else value)


def _reset_sequence(model) -> None:
    """Move the id sequence past the restored ids, so new rows do not collide with them."""
    statements = connection.ops.sequence_reset_sql(no_style(), [model])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _check(manifest: dict, rows: dict) -> None:
    """The restored rows are the exported ones: counts, and checksums when the export has them."""
    restored = table_checksums()
    wrong = []
    for label, entry in manifest["models"].items():
        found = restored.get(label, {"rows": 0})
        if found["rows"] != entry["rows"] or rows.get(label) != entry["rows"]:
            wrong.append(f"{label}: {found['rows']} rows, the export has {entry['rows']}")
        elif entry.get("sha256") and found["sha256"] != entry["sha256"]:
            wrong.append(f"{label}: the rows differ from the export's")
    if wrong:
        raise RestoreError(
            "The restored data does not match the export: %(wrong)s",
            code="mismatch",
            params={"wrong": "; ".join(wrong)},
        )


def _write_media(archive: zipfile.ZipFile, members) -> int:
    for info, name in members:
        with archive.open(info) as source:
            stored = default_storage.save(name, ContentFile(source.read()))
        if stored != name:
            raise RestoreError(
                "The file %(name)s could not be restored under its own name.",
                code="media",
                params={"name": name},
            )
    return len(members)
