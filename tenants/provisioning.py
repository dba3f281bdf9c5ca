"""
Tenant schemas, made fast.

Running every migration for each new tenant takes tens of seconds here (most
of it rendering dj-stripe's migration state, which a tenant schema does not
even use). Instead one *template* schema is migrated the ordinary way, and
each new tenant's schema is a copy of it, data included: content types,
permissions and the ``django_migrations`` records come along, so the copy is
indistinguishable from a migrated schema (tests/test_provisioning.py checks
that) and no ``migrate --fake`` pass is needed afterwards.

The copy is SQL generated from the template's catalog at each copy (a few
milliseconds, and never stale) and sent as one batch: tables, then their
rows, then sequence positions, constraints and indexes (rows before indexes,
as pg_dump does it, because it is cheaper). That covers what Django's schema
editor makes of models: tables, columns with their defaults, identities,
collations and generated expressions, comments, constraints and indexes.
Anything else a migration could add (views, functions, triggers, types,
extensions, grants...) makes provisioning fail loudly, naming the object,
rather than produce tenants that silently lack it. Django-tenants' own
clone_schema() SQL function copies more kinds of object, but takes about three
times as long here, and replaces itself in the public schema on every call.

The template is rebuilt whenever the migrations on disk differ from those
recorded in it.
"""

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import schema_context, schema_exists
from psycopg2 import sql

TEMPLATE_SCHEMA = "tenant_template"

# Rebuilding the template takes this lock exclusively and copying it takes it
# shared, so copies never read a half-rebuilt template yet run side by side.
_PROVISIONING_LOCK_ID = 0x736D7072  # "smpr"


class TemplateNotCopyable(Exception):
    """The template holds objects that the schema copy does not know how to copy."""


def template_is_current() -> bool:
    """True when the template exists and has every migration on disk applied."""
    if not schema_exists(TEMPLATE_SCHEMA):
        return False
    with schema_context(TEMPLATE_SCHEMA):
        loader = MigrationLoader(connection)
        # Every migration, not just a plan to the leaves: a plan ignores a
        # migration whose record is missing when a later one is recorded.
        return set(loader.graph.nodes) <= set(loader.applied_migrations)


def schema_drop(schema_name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema_name))
        )


def schema_migrate(schema_name: str) -> None:
    """Create ``schema_name`` and run every tenant migration in it: the slow, stock path."""
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema_name)))
    call_command(
        "migrate_schemas", tenant=True, schema_name=schema_name, interactive=False, verbosity=0
    )
    connection.set_schema_to_public()


# Migrations on disk cannot change while a process runs, so once the template
# has been found current there is no need to look again.
_template_known_current = False


def template_ensure(*, force: bool = False) -> bool:
    """Build or rebuild the template schema if it is missing or stale. Returns True if built."""
    global _template_known_current
    if _template_known_current and not force:
        return False
    with transaction.atomic(), schema_context("public"):
        _lock(shared=False)
        built = force or not template_is_current()
        if built:
            schema_drop(TEMPLATE_SCHEMA)
            schema_migrate(TEMPLATE_SCHEMA)
    _template_known_current = True
    return built


def schema_create(schema_name: str) -> None:
    """
    Create a tenant's schema as a copy of the template. Call inside the
    transaction that creates the tenant's rows, so a failure leaves neither.
    """
    template_ensure()
    # The copy points search_path at the new schema with set_config(..., true),
    # which lasts only until the transaction ends, and sets it back when done.
    # Its own atomic block makes sure there is a transaction to scope it to,
    # and that a failure part way undoes both the path and the half-built schema.
    # Nothing here depends on the connection's tenant, so it is left alone: a
    # switch would cost a SET search_path now and another one after.
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(shared=True)
        # Schema names differing only in case would be told apart by PostgreSQL
        # but not by every tool quoting them, so treat them as taken.
        if schema_exists(schema_name, case_sensitive=False):
            raise ValidationError("New schema name already exists")
        cursor.execute("SELECT current_setting('search_path')")
        (search_path,) = cursor.fetchone()
        statements = _copy_statements(cursor, TEMPLATE_SCHEMA)
        script = sql.SQL(";\n").join(
            [
                sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema_name)),
                # The generated statements name the new schema's objects
                # unqualified, exactly as the template's catalog renders them
                # with only the template on the path.
                sql.SQL("SELECT set_config('search_path', quote_ident({}), true)").format(
                    sql.Literal(schema_name)
                ),
                *map(sql.SQL, statements),
                sql.SQL("SELECT set_config('search_path', {}, true)").format(
                    sql.Literal(search_path)
                ),
            ]
        )
        cursor.execute(script)


def _lock(*, shared: bool) -> None:
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [_PROVISIONING_LOCK_ID])


# Everything in the template that the copy below would not reproduce. Each row
# names one object; Django's own migrations create none of these.
_UNSUPPORTED_SQL = """
SELECT format('%%s %%I', CASE c.relkind
           WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
           WHEN 'c' THEN 'composite type' WHEN 'f' THEN 'foreign table'
           WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index'
           ELSE 'relation' END, c.relname)
  FROM pg_class c
 WHERE c.relnamespace = %(ns)s::regnamespace AND c.relkind NOT IN ('r', 'i', 'S')
UNION ALL
SELECT format('privileges, row security, replica identity, tablespace, inheritance or '
              'partitioning on %%I', c.relname)
  FROM pg_class c
 WHERE c.relnamespace = %(ns)s::regnamespace
   AND (c.relacl IS NOT NULL OR c.relrowsecurity OR c.relispartition OR c.reltablespace <> 0
        OR (c.relkind = 'r' AND c.relreplident <> 'd')
        OR EXISTS (SELECT FROM pg_inherits i WHERE c.oid IN (i.inhrelid, i.inhparent))
        OR EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL))
UNION ALL
-- Identity sequences come with their column; any other sequence would not.
SELECT format('sequence %%I not owned by an identity column', c.relname)
  FROM pg_class c
 WHERE c.relnamespace = %(ns)s::regnamespace AND c.relkind = 'S'
   AND NOT EXISTS (SELECT FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'i')
UNION ALL
SELECT format('trigger %%I on %%I', t.tgname, c.relname)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = %(ns)s::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT format('rule %%I on %%I', r.rulename, c.relname)
  FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
 WHERE c.relnamespace = %(ns)s::regnamespace AND c.relkind = 'r'
UNION ALL
SELECT format('policy %%I on %%I', p.polname, c.relname)
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
 WHERE c.relnamespace = %(ns)s::regnamespace
UNION ALL
SELECT format('comment on %%s', pg_describe_object(d.classoid, d.objoid, d.objsubid))
  FROM pg_description d JOIN pg_class c ON c.oid = d.objoid
 WHERE d.classoid = 'pg_class'::regclass AND c.relnamespace = %(ns)s::regnamespace
   AND c.relkind <> 'r'
UNION ALL
SELECT format('comment on constraint %%I', co.conname)
  FROM pg_description d JOIN pg_constraint co ON co.oid = d.objoid
 WHERE d.classoid = 'pg_constraint'::regclass AND co.connamespace = %(ns)s::regnamespace
UNION ALL
SELECT format('function %%I', proname) FROM pg_proc
 WHERE pronamespace = %(ns)s::regnamespace
UNION ALL
-- Tables bring their row types and array types; any other type is a CREATE TYPE or DOMAIN.
SELECT format('type %%I', typname) FROM pg_type
 WHERE typnamespace = %(ns)s::regnamespace AND typrelid = 0 AND typelem = 0
UNION ALL
SELECT format('collation %%I', collname) FROM pg_collation
 WHERE collnamespace = %(ns)s::regnamespace
UNION ALL
SELECT format('operator %%s', oprname) FROM pg_operator
 WHERE oprnamespace = %(ns)s::regnamespace
UNION ALL
SELECT format('operator class %%I', opcname) FROM pg_opclass
 WHERE opcnamespace = %(ns)s::regnamespace
UNION ALL
SELECT format('operator family %%I', opfname) FROM pg_opfamily
 WHERE opfnamespace = %(ns)s::regnamespace
UNION ALL
SELECT format('statistics object %%I', stxname) FROM pg_statistic_ext
 WHERE stxnamespace = %(ns)s::regnamespace
UNION ALL
SELECT format('text search configuration %%I', cfgname) FROM pg_ts_config
 WHERE cfgnamespace = %(ns)s::regnamespace
UNION ALL
SELECT format('text search dictionary %%I', dictname) FROM pg_ts_dict
 WHERE dictnamespace = %(ns)s::regnamespace
UNION ALL
SELECT format('conversion %%I', conname) FROM pg_conversion
 WHERE connamespace = %(ns)s::regnamespace
UNION ALL
SELECT format('extension %%I', extname) FROM pg_extension
 WHERE extnamespace = %(ns)s::regnamespace
"""

# The statements that rebuild the template's tables, rows, sequence positions,
# constraints and indexes, in that order, each naming the copy's objects
# unqualified. Run with only the template on search_path, the pg_get_*
# functions render references to the template's own objects unqualified too,
# and anything outside it (public, pg_catalog types) qualified.
_COPY_SQL = r"""
WITH tables AS (
    SELECT c.oid, c.relname, c.relpersistence, c.reloptions
      FROM pg_class c
     WHERE c.relnamespace = %(ns)s::regnamespace AND c.relkind = 'r'
),
columns AS (
    SELECT a.attrelid, a.attnum, a.attname, a.attgenerated, a.attidentity,
           format('%%I %%s%%s%%s%%s', a.attname, format_type(a.atttypid, a.atttypmod),
                  CASE WHEN a.attcollation <> ty.typcollation
                       THEN format(' COLLATE %%I.%%I', cn.nspname, co.collname) ELSE '' END,
                  CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
                  CASE WHEN a.attgenerated = 's'
                       THEN format(' GENERATED ALWAYS AS (%%s) STORED',
                                   pg_get_expr(ad.adbin, ad.adrelid))
                       WHEN a.attidentity <> ''
                       THEN format(' GENERATED %%s AS IDENTITY (SEQUENCE NAME %%I START WITH %%s'
                                   ' INCREMENT BY %%s MINVALUE %%s MAXVALUE %%s CACHE %%s %%s)',
                                   CASE a.attidentity WHEN 'a' THEN 'ALWAYS'
                                        ELSE 'BY DEFAULT' END,
                                   sc.relname, s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
                                   s.seqcache, CASE WHEN s.seqcycle THEN 'CYCLE'
                                                    ELSE 'NO CYCLE' END)
                       WHEN ad.adbin IS NOT NULL
                       THEN ' DEFAULT ' || pg_get_expr(ad.adbin, ad.adrelid)
                       ELSE '' END) AS definition,
           sc.relname AS sequence
      FROM pg_attribute a
      JOIN tables t ON t.oid = a.attrelid
      JOIN pg_type ty ON ty.oid = a.atttypid
      LEFT JOIN pg_collation co ON co.oid = a.attcollation
      LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
      LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
      LEFT JOIN pg_depend d
             ON d.refclassid = 'pg_class'::regclass AND d.refobjid = a.attrelid
            AND d.refobjsubid = a.attnum AND d.classid = 'pg_class'::regclass
            AND d.deptype = 'i' AND a.attidentity <> ''
      LEFT JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'
      LEFT JOIN pg_sequence s ON s.seqrelid = sc.oid
     WHERE a.attnum > 0 AND NOT a.attisdropped
),
statements AS (
    SELECT 1 AS phase, t.relname AS name, format(
               'CREATE %%sTABLE %%I (%%s)%%s',
               CASE WHEN t.relpersistence = 'u' THEN 'UNLOGGED ' ELSE '' END, t.relname,
               (SELECT string_agg(c.definition, ', ' ORDER BY c.attnum)
                  FROM columns c WHERE c.attrelid = t.oid),
               CASE WHEN t.reloptions IS NOT NULL
                    THEN format(' WITH (%%s)', array_to_string(t.reloptions, ', '))
                    ELSE '' END) AS statement
      FROM tables t
    UNION ALL
    SELECT 2, t.relname, format(
               'INSERT INTO %%I (%%s) %%sSELECT %%s FROM %%I.%%I', t.relname, cols.list,
               CASE WHEN cols.always THEN 'OVERRIDING SYSTEM VALUE ' ELSE '' END,
               cols.list, %(ns)s, t.relname)
      FROM tables t
      CROSS JOIN LATERAL (
          SELECT string_agg(quote_ident(c.attname), ', ' ORDER BY c.attnum) AS list,
                 bool_or(c.attidentity = 'a') AS always
            FROM columns c WHERE c.attrelid = t.oid AND c.attgenerated = ''
      ) cols
     WHERE cols.list IS NOT NULL
    UNION ALL
    -- Identity sequences keep counting from where the template's stopped, as
    -- they would had the same migrations inserted the same rows.
    SELECT 3, c.sequence, format(
               'SELECT setval(%%L, last_value, is_called) FROM %%I.%%I',
               quote_ident(c.sequence), %(ns)s, c.sequence)
      FROM columns c WHERE c.sequence IS NOT NULL
    UNION ALL
    -- Primary keys and unique constraints first: foreign keys need their indexes.
    SELECT CASE WHEN co.contype = 'f' THEN 5 ELSE 4 END, co.conname, format(
               'ALTER TABLE %%I ADD CONSTRAINT %%I %%s', t.relname, co.conname,
               pg_get_constraintdef(co.oid))
      FROM pg_constraint co JOIN tables t ON t.oid = co.conrelid
    UNION ALL
    -- pg_get_indexdef() always qualifies the table; drop the template's name.
    SELECT 6, i.relname, CASE WHEN at = 0 THEN def ELSE overlay(
               def PLACING format(' ON %%I ', t.relname) FROM at FOR length(qualified)) END
      FROM pg_index x
      JOIN tables t ON t.oid = x.indrelid
      JOIN pg_class i ON i.oid = x.indexrelid
      CROSS JOIN LATERAL pg_get_indexdef(x.indexrelid) AS def
      CROSS JOIN LATERAL format(' ON %%I.%%I ', %(ns)s, t.relname) AS qualified
      CROSS JOIN LATERAL position(qualified IN def) AS at
     WHERE NOT EXISTS (SELECT FROM pg_constraint co
                        WHERE co.conrelid = x.indrelid AND co.conindid = x.indexrelid
                          AND co.contype IN ('p', 'u', 'x'))
    UNION ALL
    SELECT 7, t.relname, format('COMMENT ON TABLE %%I IS %%L', t.relname, d.description)
      FROM pg_description d JOIN tables t ON t.oid = d.objoid
     WHERE d.classoid = 'pg_class'::regclass AND d.objsubid = 0
    UNION ALL
    SELECT 7, c.attname, format('COMMENT ON COLUMN %%I.%%I IS %%L', t.relname, c.attname,
                                d.description)
      FROM pg_description d
      JOIN tables t ON t.oid = d.objoid
      JOIN columns c ON c.attrelid = d.objoid AND c.attnum = d.objsubid
     WHERE d.classoid = 'pg_class'::regclass
)
SELECT statement FROM statements ORDER BY phase, name
"""


def _copy_statements(cursor, template: str) -> list[str]:
    """The SQL that copies ``template`` into the schema first on search_path."""
    cursor.execute(_UNSUPPORTED_SQL, {"ns": template})
    unsupported = [name for (name,) in cursor.fetchall()]
    if unsupported:
        raise TemplateNotCopyable(
            f"Schema {template} holds objects tenants.provisioning cannot copy: "
            f"{', '.join(unsupported)}. Teach the copy about them, or drop them."
        )
    cursor.execute("SELECT set_config('search_path', quote_ident(%s), true)", [template])
    cursor.execute(_COPY_SQL, {"ns": template})
    return [statement for (statement,) in cursor.fetchall()]
