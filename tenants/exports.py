"""
Export everything an organisation owns into one zip file.

The archive holds, for every model of the tenant apps that has a table in the
tenant's schema, ``<app_label>.<model>.json`` (Django's serialization format,
loadable with ``loaddata``; natural keys for users, roles and permissions)
and ``<app_label>.<model>.csv`` (the same rows for spreadsheets), the files
the tenant uploaded under ``media/``, ``tenant.json`` (the organisation's row
in the public schema) and ``manifest.json`` (what is in the archive). The
format is described in docs/lifecycle-export.md.

Secrets never leave: password hashes and any field whose name says it holds
a secret are left out, and the manifest lists what was left out and why.
"""

import csv
import errno
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from datetime import UTC, datetime, time
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.core.serializers.python import Serializer as PythonSerializer
from django.db import connection, models, transaction
from django.dispatch import Signal
from django.utils import timezone
from django_tenants.utils import (
    app_labels,
    get_public_schema_name,
    schema_context,
    schema_exists,
    tenant_context,
)

from tenants.models import Tenant

FORMAT_VERSION = 1

# Rows are read and written in batches of this size, so memory use does not
# grow with the size of the tenant.
CHUNK_SIZE = 1000

# Tables of the tenant apps that are not the organisation's data.
EXCLUDED_MODELS = {
    "contenttypes.contenttype": (
        "Schema bookkeeping; the other files name content types by natural key."
    ),
    "sessions.session": "Login sessions are credentials, not organisation data.",
}

# Fields left out of every export, by model label. Fields whose names look
# like secrets (see SECRET_FIELD_WORDS) are left out as well, so a secret in
# a model added later is not exported before anyone thinks of listing it.
REDACTED_FIELDS = {
    "accounts.user": {"password"},
}
SECRET_FIELD_WORDS = frozenset(
    {"password", "passwd", "secret", "token", "key", "salt", "hash", "digest", "otp", "totp"}
)

# The organisation's own row in the public schema, minus anything internal to
# the platform (free-form settings may hold integration secrets; the
# suspension reason is a note by platform staff).
TENANT_FIELDS = [
    "name",
    "subdomain",
    "schema_name",
    "status",
    "plan",
    "max_users",
    "max_assets",
    "max_requests_per_month",
    "feature_overrides",
    "logo",
    "primary_color",
    "secondary_color",
    "billing_email",
    "contact_name",
    "contact_phone",
    "timezone",
    "trial_ends",
    "subscription_expires",
    "onboarded",
    "created",
    "updated",
]

# Sent with ``tenant`` and ``path`` once an export is complete: the audit log,
# above tenants in the layers, records it in the tenant's own log.
tenant_exported = Signal()

# Spreadsheets run cells starting with these as formulas; a requester could
# otherwise plant one for the admin who opens the export.
_CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def tenant_export(*, tenant: Tenant, path) -> Path:
    """
    Write ``tenant``'s data to a new zip file at ``path`` and return the path.

    The archive is written to a temporary file next to ``path`` and renamed
    into place only when complete, so a failed export leaves no file behind.
    Rows are streamed, never loaded all at once. Outside a transaction all
    tables are read from one consistent snapshot of the database.

    Raise ValidationError for a tenant that cannot be exported and
    FileExistsError if ``path`` exists: an export is never overwritten.
    """
    if tenant.is_public:
        raise ValidationError(
            "The platform's own tenant holds no organisation data to export.", code="public"
        )
    if not schema_exists(tenant.schema_name):
        raise ValidationError(
            "The schema %(schema)s of %(name)s does not exist.",
            code="no_schema",
            params={"schema": tenant.schema_name, "name": tenant.name},
        )
    path = Path(path).absolute()
    if path.exists():
        raise FileExistsError(f"{path} already exists; exports are never overwritten.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError as error:
        # A file stands where a folder should be; not the "export exists" case.
        raise NotADirectoryError(errno.ENOTDIR, "Not a directory", error.filename) from error

    exported_at = timezone.now()
    # mkstemp makes the file readable by its owner only, which suits personal
    # data; the rename keeps those permissions.
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            _Archive(raw, exported_at) as archive,
        ):
            tenant_row = _tenant_row(tenant)
            logo = _write_logo(archive, tenant)
            with tenant_context(tenant), _snapshot():
                model_entries, excluded = _write_models(archive)
                # What a restore checks itself against (tenants.restore).
                for label, checksum in table_checksums().items():
                    model_entries[label]["sha256"] = checksum["sha256"]
                media_count = _write_media(archive)
            _write_json(archive, "tenant.json", tenant_row)
            manifest = {
                "format_version": FORMAT_VERSION,
                "exported_at": exported_at,
                "tenant": {
                    "name": tenant.name,
                    "subdomain": tenant.subdomain,
                    "schema_name": tenant.schema_name,
                },
                "models": model_entries,
                "excluded_models": excluded,
                "media_files": media_count,
                "logo": logo,
            }
            _write_json(archive, "manifest.json", manifest)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    tenant_exported.send(sender=tenant_export, tenant=tenant, path=path)
    return path


def export_models() -> tuple[list[type[models.Model]], dict[str, str]]:
    """
    The models of the tenant apps to export, and those left out with why.
    Tables are not checked here: see ``_write_models``.
    """
    exported, excluded = [], {}
    for label in dict.fromkeys(app_labels(settings.TENANT_APPS)):
        for model in apps.get_app_config(label).get_models():
            name = model._meta.label_lower
            if model._meta.proxy:
                continue  # Its rows are exported with its concrete model.
            if name in EXCLUDED_MODELS:
                excluded[name] = EXCLUDED_MODELS[name]
            elif _looks_secret(model._meta.pk.name):
                excluded[name] = "Its primary key is a secret."
            else:
                exported.append(model)
    return exported, excluded


def redacted_fields(model: type[models.Model]) -> list[str]:
    """Names of ``model``'s fields that are never exported."""
    listed = REDACTED_FIELDS.get(model._meta.label_lower, set())
    redacted = []
    for field in [*model._meta.local_fields, *model._meta.local_many_to_many]:
        secret_target = field.is_relation and _looks_secret(field.related_model._meta.pk.name)
        if field.name in listed or _looks_secret(field.name) or secret_target:
            redacted.append(field.name)
    return redacted


def _looks_secret(field_name: str) -> bool:
    return not SECRET_FIELD_WORDS.isdisjoint(re.split(r"[_\W]+", field_name.lower()))


@contextmanager
def _snapshot():
    """
    Read every table from the same snapshot, so rows that refer to each other
    agree even while the organisation keeps working. Inside a caller's
    transaction its isolation level stands (it may already have written).
    """
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _tenant_row(tenant: Tenant) -> dict:
    row = {}
    for name in TENANT_FIELDS:
        value = getattr(tenant, name)
        row[name] = value.name if isinstance(value, models.fields.files.FieldFile) else value
    with schema_context(get_public_schema_name()):
        row["domains"] = sorted(tenant.domains.values_list("domain", flat=True))
    return row


def _write_logo(archive: "_Archive", tenant: Tenant) -> str | None:
    """Copy the tenant's logo, uploaded through the public site, into ``tenant/``."""
    if not tenant.logo:
        return None
    with schema_context(get_public_schema_name()):
        if not tenant.logo.storage.exists(tenant.logo.name):
            return None
        member = f"tenant/{tenant.logo.name}"
        with (
            tenant.logo.storage.open(tenant.logo.name, "rb") as source,
            archive.open_member(member) as target,
        ):
            shutil.copyfileobj(source, target)
    return member


def _write_models(archive: "_Archive") -> tuple[dict, dict]:
    # Only tables that exist in this schema: a model whose migration has not
    # reached the tenant yet has no rows to lose.
    tables = set(connection.introspection.table_names())
    exported, excluded = export_models()
    entries = {}
    for model in exported:
        if model._meta.db_table not in tables:
            continue
        label = model._meta.label_lower
        count = _write_model(archive, model)
        entries[label] = {
            "rows": count,
            "json": f"{label}.json",
            "csv": f"{label}.csv",
            "redacted_fields": redacted_fields(model),
        }
    return entries, excluded


class _Archive(zipfile.ZipFile):
    """
    A zip being written whose members all carry the export's time (UTC):
    members written as streams would otherwise be dated 1980.
    """

    def __init__(self, file, exported_at):
        super().__init__(file, "w", compression=zipfile.ZIP_DEFLATED)
        self.date_time = exported_at.astimezone(UTC).timetuple()[:6]

    def member_info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self.date_time)
        info.compress_type = self.compression
        info.external_attr = 0o600 << 16  # Personal data: owner only once unzipped.
        return info

    def open_member(self, name: str):
        return self.open(self.member_info(name), "w")


class _StreamingSerializer(PythonSerializer):
    """Django's Python serializer, handing on each object instead of keeping a list."""

    def __init__(self, on_object):
        self.on_object = on_object

    def end_object(self, obj):
        self.on_object(self.get_dump_object(obj))
        self._current = None


def _write_model(archive: "_Archive", model: type[models.Model]) -> int:
    """Write ``model``'s rows as JSON and CSV; return how many there were."""
    opts = model._meta
    local, many = _serialized_fields(model)
    columns = [*local, *many]
    queryset = _export_queryset(model, local, many)

    # Only one zip member can be open for writing, so the CSV is collected in
    # a spooled temporary file (on disk once large) during the single pass
    # that writes the JSON; both then hold exactly the same rows.
    count = 0
    with tempfile.SpooledTemporaryFile(
        max_size=8 * 1024 * 1024, mode="w+", encoding="utf-8", newline=""
    ) as csv_file:
        csv_out = csv.writer(csv_file)
        csv_out.writerow([opts.pk.name, *columns])
        with archive.open_member(f"{opts.label_lower}.json") as json_member:
            json_out = io.TextIOWrapper(json_member, encoding="utf-8")

            def on_object(dump):
                nonlocal count
                json_out.write(",\n" if count else "[\n")
                json_out.write(_dumps(dump))
                csv_out.writerow(
                    [
                        _csv_cell(dump.get("pk")),
                        *(_csv_cell(dump["fields"].get(c)) for c in columns),
                    ]
                )
                count += 1

            _StreamingSerializer(on_object).serialize(
                queryset.iterator(chunk_size=CHUNK_SIZE),
                fields=columns,
                use_natural_foreign_keys=True,
            )
            json_out.write("\n]\n" if count else "[]\n")
            json_out.flush()
            json_out.detach()  # The member is closed by its own with block.

        csv_file.seek(0)
        with archive.open_member(f"{opts.label_lower}.csv") as csv_member:
            csv_text = io.TextIOWrapper(csv_member, encoding="utf-8", newline="")
            shutil.copyfileobj(csv_file, csv_text)
            csv_text.flush()
            csv_text.detach()
    return count


def table_checksums() -> dict[str, dict]:
    """
    Per exported model of the current schema: its row count and a SHA-256
    over its rows as the export writes them (redacted fields left out,
    references by natural key, times as the JSON has them). Equal before an
    export and after its restore: docs/recovery.md.
    """
    tables = set(connection.introspection.table_names())
    exported, _excluded = export_models()
    checksums = {}
    for model in exported:
        if model._meta.db_table not in tables:
            continue
        digest, count = hashlib.sha256(), 0

        def on_object(dump, digest=digest):
            nonlocal count
            count += 1
            digest.update(_canonical(dump).encode())

        local, many = _serialized_fields(model)
        _StreamingSerializer(on_object).serialize(
            _export_queryset(model, local, many).iterator(chunk_size=CHUNK_SIZE),
            fields=[*local, *many],
            use_natural_foreign_keys=True,
        )
        checksums[model._meta.label_lower] = {"rows": count, "sha256": digest.hexdigest()}
    return checksums


def _canonical(dump: dict) -> str:
    # Many-to-many lists come in no set order; everything else is by pk.
    fields = {
        name: sorted(value, key=_dumps) if isinstance(value, list) else _as_exported(value)
        for name, value in dump["fields"].items()
    }
    return json.dumps(
        {"pk": dump.get("pk"), "fields": fields}, cls=DjangoJSONEncoder, sort_keys=True
    )


def _as_exported(value):
    # The JSON keeps times to the millisecond (DjangoJSONEncoder cuts the
    # rest), so 12:00:00.000400 comes back as 12:00:00: checksum what the
    # archive holds, not what the row held, or such a row never matches.
    if isinstance(value, (datetime, time)):
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


def _serialized_fields(model) -> tuple[list[str], list[str]]:
    """The local and many-to-many fields an export writes for ``model``."""
    opts = model._meta
    redacted = set(redacted_fields(model))
    local = [f.name for f in opts.local_fields if f.serialize and f.name not in redacted]
    many = [
        f.name
        for f in opts.local_many_to_many
        if f.serialize and f.remote_field.through._meta.auto_created and f.name not in redacted
    ]
    return local, many


def _export_queryset(model, local, many):
    """All rows, in primary key order, with what natural keys need fetched alongside."""
    opts = model._meta
    queryset = model._base_manager.order_by("pk")
    natural_fks = [
        name
        for name in local
        if opts.get_field(name).is_relation
        and hasattr(opts.get_field(name).related_model, "natural_key")
    ]
    if natural_fks:
        queryset = queryset.select_related(*natural_fks)
    prefetches = []
    for name in many:
        target = opts.get_field(name).related_model
        # A natural key may itself reach through a foreign key (a permission's
        # includes its content type's): fetch that in the same query.
        target_fks = [
            f.name
            for f in target._meta.local_fields
            if f.is_relation and hasattr(f.related_model, "natural_key")
        ]
        prefetches.append(
            models.Prefetch(name, queryset=target._base_manager.select_related(*target_fks))
        )
    return queryset.prefetch_related(*prefetches)


def _dumps(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def _csv_cell(value) -> str:
    """
    One CSV cell: scalars as text (dates in ISO 8601, as in the JSON), several
    values (many-to-many, multi-part keys, JSON fields) as JSON text.
    """
    if isinstance(value, tuple) and len(value) == 1:
        value = value[0]  # A one-part natural key, such as a user's e-mail address.
    elif isinstance(value, list):
        value = [v[0] if isinstance(v, tuple) and len(v) == 1 else v for v in value]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value if value.startswith(_CSV_FORMULA_PREFIXES) else value
    if isinstance(value, int | float):
        return str(value)
    encoded = json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    if isinstance(encoded, str):
        return encoded
    return json.dumps(encoded, ensure_ascii=False)


def _write_media(archive: "_Archive") -> int:
    """Copy the files the tenant uploaded (its folder of the media storage) into ``media/``."""
    count = 0
    pending = [""]
    while pending:
        folder = pending.pop()
        try:
            folders, files = default_storage.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            continue
        pending.extend(f"{folder}{name}/" for name in sorted(folders, reverse=True))
        for name in sorted(files):
            with (
                default_storage.open(folder + name, "rb") as source,
                archive.open_member(f"media/{folder}{name}") as target,
            ):
                shutil.copyfileobj(source, target)
            count += 1
    return count


def _write_json(archive: "_Archive", member: str, value) -> None:
    archive.writestr(archive.member_info(member), _dumps(value) + "\n")
