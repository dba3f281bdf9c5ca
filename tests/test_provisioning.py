"""
Fast provisioning: a tenant schema copied from the template is the same, in
every catalog detail that matters, as one built by running the migrations, and
the template follows the migrations on disk. Spare schemas, copied ahead of
time, are taken by new tenants, put back when a creation fails, and dropped
with the template that they were copied from.

One test here runs every tenant migration (about 35 s); everything else is
cheap.
"""

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Max
from django_tenants.utils import schema_context, schema_exists, tenant_context
from psycopg2 import sql

from accounts.models import User
from accounts.services import user_create
from smartmaintenance.celery import app as celery_app
from tenants import provisioning, schema_copy
from tenants.models import SpareSchema, Tenant
from tenants.provisioning import (
    TEMPLATE_SCHEMA,
    schema_create,
    spares_fill,
    template_ensure,
    template_is_current,
)
from tenants.schema_copy import SchemaNotCopyable
from tenants.tasks import spare_schemas_fill

pytestmark = pytest.mark.django_db

# Each query takes the schema name as %(schema)s and returns rows that do not
# depend on the schema's name once it is replaced by "<schema>". Nothing
# compares column positions: a migrated table keeps a gap where a column was
# dropped (django_content_type.name), which no query or model can see.
CATALOG_QUERIES = {
    "relations": """
        SELECT c.relname, c.relkind, c.relpersistence, c.reloptions::text, c.relreplident,
               c.relrowsecurity, c.relacl::text, obj_description(c.oid, 'pg_class')
          FROM pg_class c
         WHERE c.relnamespace = %(schema)s::regnamespace
         ORDER BY c.relname
    """,
    "columns": """
        SELECT table_name, column_name, data_type, udt_schema, udt_name,
               character_maximum_length, numeric_precision, numeric_scale,
               datetime_precision, is_nullable, column_default, collation_name,
               is_identity, identity_generation, identity_start, identity_increment,
               identity_minimum, identity_maximum, identity_cycle, is_generated,
               generation_expression,
               col_description(format('%%I.%%I', table_schema, table_name)::regclass,
                               ordinal_position)
          FROM information_schema.columns
         WHERE table_schema = %(schema)s
         ORDER BY table_name, ordinal_position
    """,
    "indexes": """
        SELECT tablename, indexname, indexdef
          FROM pg_indexes
         WHERE schemaname = %(schema)s
         ORDER BY tablename, indexname
    """,
    "constraints": """
        SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid),
               condeferrable, condeferred, convalidated
          FROM pg_constraint
         WHERE connamespace = %(schema)s::regnamespace
         ORDER BY 1, 2
    """,
    "sequences": """
        SELECT s.sequencename, s.data_type::text, s.start_value, s.min_value, s.max_value,
               s.increment_by, s.cycle, s.cache_size, s.last_value,
               d.deptype, d.refobjid::regclass::text, a.attname
          FROM pg_sequences s
          LEFT JOIN pg_depend d
                 ON d.classid = 'pg_class'::regclass
                AND d.objid = format('%%I.%%I', s.schemaname, s.sequencename)::regclass
                AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
          LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE s.schemaname = %(schema)s
         ORDER BY s.sequencename
    """,
    "triggers": """
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid)
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace = %(schema)s::regnamespace AND NOT t.tgisinternal
         ORDER BY 1, 2
    """,
    "routines_and_types": """
        SELECT 'function', proname FROM pg_proc WHERE pronamespace = %(schema)s::regnamespace
        UNION ALL
        SELECT 'type', typname FROM pg_type
         WHERE typnamespace = %(schema)s::regnamespace AND typrelid = 0 AND typelem = 0
         ORDER BY 1, 2
    """,
}

# Rows the migrations (and the post_migrate signal) leave in a new schema.
DATA_QUERIES = {
    "migrations": "SELECT app, name FROM {schema}.django_migrations ORDER BY app, name",
    "content_types": "SELECT id, app_label, model FROM {schema}.django_content_type ORDER BY id",
    "permissions": (
        "SELECT id, content_type_id, codename, name FROM {schema}.auth_permission ORDER BY id"
    ),
}


def describe(schema_name):
    """
    What a schema holds, as comparable plain data: its tables, columns,
    indexes, constraints, sequences (with their positions and owners),
    triggers, functions and types, and the rows migrating it leaves behind.
    """
    own_name = re.compile(rf"(?<![\w\"]){re.escape(schema_name)}\.")

    def normalise(value):
        return own_name.sub("<schema>.", value) if isinstance(value, str) else value

    description = {}
    # From the public schema, every reference into the schema described comes
    # out qualified, and so is normalised the same way for any schema.
    with schema_context("public"), connection.cursor() as cursor:
        for key, query in CATALOG_QUERIES.items():
            cursor.execute(query, {"schema": schema_name})
            description[key] = [tuple(map(normalise, row)) for row in cursor.fetchall()]
        for key, query in DATA_QUERIES.items():
            cursor.execute(sql.SQL(query).format(schema=sql.Identifier(schema_name)))
            description[key] = cursor.fetchall()
    return description


def assert_same_schema(actual, expected):
    # Key by key, so a failure names the part that differs.
    assert actual.keys() == expected.keys()
    for key in expected:
        assert actual[key] == expected[key], f"{key} differ"


def execute(statement, schema_name, params=()):
    """Run ``statement`` with ``{schema}`` standing for ``schema_name``, quoted."""
    query = sql.SQL(statement).format(schema=sql.Identifier(schema_name))
    with schema_context("public"), connection.cursor() as cursor:
        cursor.execute(query, params)


def test_a_copied_schema_equals_the_template(make_tenant):
    tenant = make_tenant("twin")

    assert_same_schema(describe(tenant.schema_name), describe(TEMPLATE_SCHEMA))


# Beyond what today's models need: every column, constraint and index feature
# the copy claims to handle, including references out to the public schema.
GADGETS = """
    CREATE TABLE {schema}.gadget (
        id bigint GENERATED ALWAYS AS IDENTITY (START WITH 10 INCREMENT BY 5) PRIMARY KEY,
        name varchar(50) COLLATE "C" NOT NULL DEFAULT 'unnamed',
        price numeric(10, 2) NOT NULL DEFAULT 0 CHECK (price >= 0),
        price_with_tax numeric(12, 2) GENERATED ALWAYS AS (price * 1.2) STORED,
        owner_id bigint REFERENCES {schema}.accounts_user (id) DEFERRABLE INITIALLY DEFERRED,
        tenant_id bigint REFERENCES public.tenants_tenant (id),
        code text,
        CONSTRAINT gadget_code_uniq UNIQUE (code) DEFERRABLE
    ) WITH (fillfactor = 70);
    CREATE UNIQUE INDEX gadget_live_name ON {schema}.gadget (lower(code) text_pattern_ops)
        WHERE price > 0;
    CREATE INDEX gadget_price ON {schema}.gadget (price DESC NULLS LAST) INCLUDE (name);
    COMMENT ON TABLE {schema}.gadget IS 'Things';
    COMMENT ON COLUMN {schema}.gadget.name IS 'What it''s called';
    INSERT INTO {schema}.gadget (name, price, code) VALUES ('first', 1, 'g-1');
"""


def test_a_new_tenants_tables_with_rows_come_with_planner_statistics(make_tenant):
    # Without them the planner guesses the permission tables' size until
    # autovacuum comes round, and every API call's key lookup reads ~7x the
    # buffers it needs (bench/scale.py).
    tenant = make_tenant("stats")
    with tenant_context(tenant):
        rows = {
            "auth_permission": Permission.objects.count(),
            "django_content_type": ContentType.objects.count(),
        }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class"
            " WHERE relnamespace = %s::regnamespace AND relname = ANY(%s)",
            [tenant.schema_name, list(rows)],
        )
        counted = {name: int(count) for name, count in cursor.fetchall()}
        cursor.execute(
            "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = %s AND tablename = ANY(%s)",
            [tenant.schema_name, list(rows)],
        )
        with_statistics = {name for (name,) in cursor.fetchall()}
    assert counted == rows
    assert with_statistics == set(rows)


def test_a_template_built_before_statistics_is_analysed_once_and_its_spares_go(db, monkeypatch):
    provisioning.template_ensure()
    provisioning.spares_fill(1)
    with connection.cursor() as cursor:
        # What a template built before this change looks like (superuser only).
        cursor.execute(
            "UPDATE pg_class SET reltuples = -1 FROM pg_namespace n"
            " WHERE n.oid = relnamespace AND n.nspname = %s AND relname = %s",
            [provisioning.TEMPLATE_SCHEMA, ContentType._meta.db_table],
        )
    monkeypatch.setattr(provisioning, "_template_known_current", False)

    assert provisioning.template_ensure() is False

    assert not SpareSchema.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relname = %s",
            [provisioning.TEMPLATE_SCHEMA, ContentType._meta.db_table],
        )
        (counted,) = cursor.fetchone()
        cursor.execute(
            sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(provisioning.TEMPLATE_SCHEMA),
                sql.Identifier(ContentType._meta.db_table),
            )
        )
        assert counted == cursor.fetchone()[0] > 0


def test_a_copy_reproduces_every_kind_of_column_constraint_and_index(make_tenant):
    execute(GADGETS, TEMPLATE_SCHEMA)

    tenant = make_tenant("gadgets")

    assert_same_schema(describe(tenant.schema_name), describe(TEMPLATE_SCHEMA))
    with tenant_context(tenant), connection.cursor() as cursor:
        cursor.execute("INSERT INTO gadget (price, code) VALUES (2, 'g-2')")
        cursor.execute("SELECT id, name, price_with_tax, code FROM gadget ORDER BY id")
        assert [(row[0], row[1], str(row[2]), row[3]) for row in cursor.fetchall()] == [
            (10, "first", "1.20", "g-1"),
            (15, "unnamed", "2.40", "g-2"),
        ]


@pytest.mark.parametrize(
    ("change", "part"),
    [
        ("ALTER TABLE {schema}.accounts_user ALTER COLUMN full_name TYPE text", "columns"),
        ("ALTER TABLE {schema}.accounts_user ALTER COLUMN last_login SET NOT NULL", "columns"),
        ("ALTER TABLE {schema}.accounts_user ALTER COLUMN full_name SET DEFAULT 'x'", "columns"),
        ("ALTER TABLE {schema}.accounts_user ADD COLUMN extra integer", "columns"),
        ("CREATE TABLE {schema}.extra (id integer)", "relations"),
        ("DROP INDEX {schema}.accounts_user_email_b2644a56_like", "indexes"),
        ("CREATE INDEX ON {schema}.accounts_user (full_name)", "indexes"),
        (
            "ALTER TABLE {schema}.accounts_user DROP CONSTRAINT accounts_user_email_key",
            "constraints",
        ),
        ("ALTER TABLE {schema}.accounts_user ADD CHECK (id > 0)", "constraints"),
        ("SELECT setval('{schema}.accounts_user_id_seq', 41)", "sequences"),
        ("ALTER SEQUENCE {schema}.accounts_user_id_seq INCREMENT BY 2", "sequences"),
        ("CREATE SEQUENCE {schema}.extra_seq", "sequences"),
        ("DELETE FROM {schema}.django_migrations WHERE app = 'accounts'", "migrations"),
        ("DELETE FROM {schema}.auth_permission WHERE codename = 'add_contenttype'", "permissions"),
        (
            "CREATE FUNCTION {schema}.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
            "routines_and_types",
        ),
    ],
)
def test_the_comparison_sees_a_difference(make_tenant, change, part):
    tenant = make_tenant("changed")
    before = describe(tenant.schema_name)

    execute(change, tenant.schema_name)
    after = describe(tenant.schema_name)

    assert after[part] != before[part]


def test_a_copy_does_not_depend_on_the_template(make_tenant):
    tenant = make_tenant("standalone")
    before = describe(tenant.schema_name)

    # Anything in the copy still pointing into the template (a foreign key, a
    # default, an identity sequence) would go with it, or stop the drop.
    execute("DROP SCHEMA {schema} CASCADE", TEMPLATE_SCHEMA)

    assert describe(tenant.schema_name) == before


def test_sequences_in_a_copy_continue_without_collisions(make_tenant):
    tenant = make_tenant("counting")

    with tenant_context(tenant):
        user = user_create(email="first@counting.example", password="x-Secret-123")
        content_type = ContentType.objects.create(app_label="extra", model="thing")
        permission = Permission.objects.create(
            content_type=content_type, codename="do_thing", name="Can do thing"
        )
        assert user.pk == 1
        assert User.objects.get().email == "first@counting.example"
        # Right after the rows the copy brought along from the template.
        assert content_type.pk == _max_pk(ContentType.objects.exclude(pk=content_type.pk)) + 1
        assert permission.pk == _max_pk(Permission.objects.exclude(pk=permission.pk)) + 1


def _max_pk(queryset):
    return queryset.aggregate(Max("pk"))["pk__max"]


def test_a_template_with_an_object_the_copy_cannot_make_fails_loudly(make_tenant):
    execute(
        "CREATE VIEW {schema}.staff AS SELECT email FROM {schema}.accounts_user", TEMPLATE_SCHEMA
    )

    with pytest.raises(SchemaNotCopyable, match="view staff"):
        make_tenant("viewless")

    assert not Tenant.objects.filter(subdomain="viewless").exists()
    assert not schema_exists("t_viewless")


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("CREATE FUNCTION {schema}.f() RETURNS int LANGUAGE sql AS 'SELECT 1'", "function f"),
        ("CREATE TYPE {schema}.mood AS ENUM ('ok')", "type mood"),
        ("CREATE SEQUENCE {schema}.counter", "sequence counter"),
        ("GRANT SELECT ON {schema}.accounts_user TO PUBLIC", "privileges"),
        ("COMMENT ON INDEX {schema}.accounts_user_pkey IS 'x'", "comment on index"),
        ("CREATE DOMAIN {schema}.positive AS integer CHECK (VALUE > 0)", "type positive"),
        ('CREATE COLLATION {schema}.bytewise FROM "C"', "collation bytewise"),
    ],
)
def test_the_copy_names_each_object_it_cannot_make(statement, named):
    execute(statement, TEMPLATE_SCHEMA)

    with pytest.raises(SchemaNotCopyable, match=named):
        schema_create("t_never_made")

    assert not schema_exists("t_never_made")


def test_what_a_copy_reads_of_the_catalogs_does_not_grow_with_the_tenants(db):
    # A whole scan of pg_class or pg_constraint would read every tenant's
    # tables, making each new tenant's copy slower than the last; looking the
    # template's objects up by index reads the same rows however many there are.
    _catalog_rows_scanned_by_a_copy()  # the first one fills caches
    before = _catalog_rows_scanned_by_a_copy()

    for number in range(5):
        schema_create(f"t_crowd_{number}")

    after = _catalog_rows_scanned_by_a_copy()
    assert after <= before, (before, after)


# The catalogs holding rows for every table of every tenant schema.
CATALOGS_WITH_ROWS_PER_TABLE = [
    "pg_class",
    "pg_attribute",
    "pg_attrdef",
    "pg_constraint",
    "pg_index",
    "pg_depend",
    "pg_description",
    "pg_type",
    "pg_sequence",
    "pg_trigger",
]


def _catalog_rows_scanned_by_a_copy():
    """Rows of those catalogs that working out a copy reads by sequential scans."""
    counted = """
        SELECT coalesce(sum(seq_tup_read), 0) FROM pg_stat_xact_sys_tables
         WHERE relname = ANY(%s)
    """
    with schema_context("public"), connection.cursor() as cursor:
        cursor.execute(counted, [CATALOGS_WITH_ROWS_PER_TABLE])
        (before,) = cursor.fetchone()
        assert schema_copy._copy_statements(cursor, TEMPLATE_SCHEMA)
        cursor.execute("SELECT set_config('search_path', 'public', true)")
        cursor.execute(counted, [CATALOGS_WITH_ROWS_PER_TABLE])
        (after,) = cursor.fetchone()
    return after - before


def test_a_schema_name_taken_in_another_case_is_refused(db):
    execute("CREATE SCHEMA {schema}", "T_Shouting")

    with pytest.raises(ValidationError, match="already exists"):
        schema_create("t_shouting")


def test_the_copy_leaves_the_search_path_as_it_was(db):
    # What runs next in the same transaction (the tenant's audit row, say)
    # must land where it did before, with no schema switch to reset the path.
    with schema_context("public"), connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        before = cursor.fetchone()

        schema_create("t_pathless")

        cursor.execute("SHOW search_path")
        assert cursor.fetchone() == before
        cursor.execute("SELECT to_regclass('tenants_tenant') IS NOT NULL")
        assert cursor.fetchone() == (True,)
    assert schema_exists("t_pathless")


def test_a_stale_template_is_rebuilt_and_a_copy_equals_the_freshly_migrated_result(
    monkeypatch, make_tenant
):
    # Copied from the template as the session built it.
    copied = make_tenant("copied")
    spares_fill(1)
    (spare,) = SpareSchema.objects.all()
    # A migration on disk that the template lacks, as after a deploy.
    execute(
        "DELETE FROM {schema}.django_migrations WHERE app = %s AND name = %s",
        TEMPLATE_SCHEMA,
        ["accounts", "0001_initial"],
    )
    assert not template_is_current()
    # Another process would not have looked at this template yet.
    monkeypatch.setattr(provisioning, "_template_known_current", False)

    # Dropped and migrated afresh by the slow, stock path (rolled back with
    # the test): an independent migrated schema to hold the copy against.
    assert template_ensure() is True

    assert template_is_current()
    # Spares copied from the old template go with it.
    assert not SpareSchema.objects.exists()
    assert not schema_exists(spare.name)
    migrated = describe(TEMPLATE_SCHEMA)
    assert ("accounts", "0001_initial") in migrated["migrations"]
    assert_same_schema(describe(copied.schema_name), migrated)
    # A vacuous comparison proves nothing: the schemas must hold the real thing.
    assert ("accounts_user", "email", "character varying") in [
        row[:3] for row in migrated["columns"]
    ]
    assert any(row[2] == "f" for row in migrated["constraints"])
    assert any(name.endswith("_like") for _table, name, _def in migrated["indexes"])
    assert ("accounts_user_id_seq",) in [row[:1] for row in migrated["sequences"]]
    assert migrated["permissions"]

    # Checked once per process: no second rebuild, nor a second look.
    assert template_ensure() is False
    assert_same_schema(describe(make_tenant("after-rebuild").schema_name), migrated)


# Spare schemas: copies made ahead of time, renamed for a new tenant.


def test_a_new_tenant_takes_a_spare_schema_which_equals_the_template(make_tenant):
    assert spares_fill(2) == 2
    spares = list(SpareSchema.objects.values_list("name", flat=True))

    tenant = make_tenant("spared")

    assert list(SpareSchema.objects.values_list("name", flat=True)) == spares[1:]
    assert not schema_exists(spares[0])
    assert_same_schema(describe(tenant.schema_name), describe(TEMPLATE_SCHEMA))
    with tenant_context(tenant):
        assert user_create(email="first@spared.example", password="x-Secret-123").pk == 1


def test_a_failed_creation_puts_the_spare_back(db):
    spares_fill(1)
    (spare,) = SpareSchema.objects.all()

    with pytest.raises(RuntimeError), transaction.atomic():
        schema_create("t_doomed")
        assert not SpareSchema.objects.exists()
        raise RuntimeError("a later step of the signup failed")

    assert SpareSchema.objects.get() == spare
    assert schema_exists(spare.name)
    assert not schema_exists("t_doomed")


def test_a_spare_copied_from_an_older_template_is_not_taken(db):
    spares_fill(1)
    SpareSchema.objects.update(template_oid=1)
    (stale,) = SpareSchema.objects.all()

    schema_create("t_fresh")

    assert schema_exists("t_fresh")
    assert SpareSchema.objects.get() == stale
    # Filling ignores it too: it does not count towards the pool.
    assert spares_fill(1) == 1


def test_parallel_new_tenants_each_take_a_spare_of_their_own(committed_tenant, in_own_connection):
    in_own_connection(spares_fill, 3)
    spares = in_own_connection(lambda: list(SpareSchema.objects.values_list("name", flat=True)))
    start = threading.Barrier(5)

    def make(number):
        start.wait()
        return committed_tenant(f"spare-race-{number}").schema_name

    try:
        with ThreadPoolExecutor(5) as pool:
            schemas = list(pool.map(make, range(5)))

        def left():
            return (
                SpareSchema.objects.count(),
                [schema_exists(name) for name in spares + schemas],
            )

        # Three took a spare each and two copied the template.
        assert in_own_connection(left) == (0, [False] * 3 + [True] * 5)
        # Described on connections of their own: the test's transaction would
        # keep locks on the schemas that their deletion at the end waits for.
        template = in_own_connection(describe, TEMPLATE_SCHEMA)
        for schema_name in schemas:
            assert_same_schema(in_own_connection(describe, schema_name), template)
    finally:
        in_own_connection(provisioning.spares_drop)


def test_filling_stops_at_the_pool_size(db):
    assert spares_fill(2) == 2
    assert spares_fill(2) == 0
    assert spares_fill(3) == 1
    assert SpareSchema.objects.count() == 3
    assert all(schema_exists(spare.name) for spare in SpareSchema.objects.all())


def test_a_new_tenant_has_the_pool_topped_up_after_commit(
    settings, make_tenant, django_capture_on_commit_callbacks
):
    settings.TENANT_SPARE_SCHEMAS = 2
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            make_tenant("topping")
    finally:
        celery_app.conf.task_always_eager = previous

    assert SpareSchema.objects.count() == 2


def test_the_template_command_fills_the_pool(db):
    out = StringIO()

    call_command("tenant_template", spares=2, stdout=out)

    assert "up to date" in out.getvalue()
    assert "2 new spare schema(s)" in out.getvalue()
    assert SpareSchema.objects.count() == 2


def test_the_template_command_refuses_a_negative_pool(db):
    with pytest.raises(CommandError, match="--spares"):
        call_command("tenant_template", spares=-1)


def test_beat_tops_the_pool_up_with_a_task_that_exists():
    (entry,) = (
        entry
        for entry in celery_app.conf.beat_schedule.values()
        if entry["task"].endswith("spare_schemas_fill")
    )

    assert entry["task"] == spare_schemas_fill.name
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"] <= 60
