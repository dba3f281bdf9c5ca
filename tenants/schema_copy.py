"""
A schema copied from another, in one batch of SQL generated from the source's
catalog at each copy (a few milliseconds, and never stale): tables with their
keys and checks, then their rows, sequence positions, foreign keys,
indexes and the statistics of the tables that have rows. Rows come along, so
a copy of a migrated schema carries its content types, permissions and
``django_migrations`` records.

That covers what Django's schema editor makes of models: tables, columns with
their defaults, identities, collations and generated expressions, comments,
constraints and indexes. Anything else a migration could add (views,
functions, triggers, types, extensions, grants...) makes the copy fail
loudly, naming the object, rather than produce a schema that silently lacks
it. Django-tenants' own clone_schema() SQL function copies more kinds of
object, but takes about three times as long here, and replaces itself in the
public schema on every call.

The catalog is read by index lookups only, so a copy costs the same however
many tenant schemas share the database. What remains is PostgreSQL building
some 170 empty relations and indexes, each synced to disk: about 90 ms here.
"""

from psycopg2 import sql


class SchemaNotCopyable(Exception):
    """The source schema holds objects that the copy does not know how to make."""


def schema_copy(cursor, source: str, target: str) -> None:
    """
    Create schema ``target`` as a copy of ``source``. Run it in a transaction:
    the search path is changed for the copy with set_config(..., true), which
    lasts until the transaction ends, and a failure part way must undo both
    the path and the half-built schema. The path is set back when done.
    """
    cursor.execute("SELECT current_setting('search_path')")
    (search_path,) = cursor.fetchone()
    statements = _copy_statements(cursor, source)
    script = sql.SQL(";\n").join(
        [
            sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(target)),
            # The generated statements name the new schema's objects
            # unqualified, exactly as the source's catalog renders them
            # with only the source on the path.
            sql.SQL("SELECT set_config('search_path', quote_ident({}), true)").format(
                sql.Literal(target)
            ),
            *map(sql.SQL, statements),
            sql.SQL("SELECT set_config('search_path', {}, true)").format(sql.Literal(search_path)),
        ]
    )
    cursor.execute(script)


# Every query here finds the source's objects from its namespace, through
# the index on pg_depend (each object in a schema but its tables' indexes,
# constraints, row types and toast tables records a dependency on it), then
# through the indexes on the tables' oids. Filtering pg_class or pg_type by
# namespace instead scans the whole catalog, every tenant's tables included:
# that made copies slower with each tenant (50 ms more at 300 tenants).
_MEMBERS_CTE = """
members AS (
    SELECT d.classid, d.objid
      FROM pg_depend d
     WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = %(ns)s::regnamespace
),
relations AS (
    SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.reloptions, c.relacl,
           c.relrowsecurity, c.relispartition, c.reltablespace, c.relreplident, c.reltuples
      FROM members m JOIN pg_class c ON c.oid = m.objid
     WHERE m.classid = 'pg_class'::regclass
),
tables AS (
    SELECT * FROM relations WHERE relkind = 'r'
)
"""

# Everything in the source that the copy below would not reproduce. Each row
# names one object; Django's own migrations create none of these. Run with the
# source alone on search_path, so pg_describe_object() leaves names unqualified.
_UNSUPPORTED_SQL = (
    "WITH"  # noqa: S608 (constants only)
    + _MEMBERS_CTE
    + """
SELECT format('%%s %%I', CASE c.relkind
           WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
           WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table'
           ELSE 'relation' END, c.relname)
  FROM relations c
 WHERE c.relkind NOT IN ('r', 'S')
UNION ALL
-- Functions, types, domains, collations, operators, extensions...: whatever
-- else lives in the schema.
SELECT pg_describe_object(m.classid, m.objid, 0)
  FROM members m
 WHERE m.classid <> 'pg_class'::regclass
UNION ALL
SELECT format('privileges, row security, replica identity, tablespace, inheritance or '
              'partitioning on %%I', c.relname)
  FROM relations c
 WHERE c.relacl IS NOT NULL OR c.relrowsecurity OR c.relispartition OR c.reltablespace <> 0
    OR (c.relkind = 'r' AND c.relreplident <> 'd')
    OR EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = c.oid)
    OR EXISTS (SELECT FROM pg_inherits i WHERE i.inhparent = c.oid)
    OR EXISTS (SELECT FROM pg_attribute a
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND a.attacl IS NOT NULL)
UNION ALL
-- Identity sequences come with their column; any other sequence would not.
SELECT format('sequence %%I not owned by an identity column', c.relname)
  FROM relations c
 WHERE c.relkind = 'S'
   AND NOT EXISTS (SELECT FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'i')
UNION ALL
SELECT format('trigger %%I on %%I', tg.tgname, t.relname)
  FROM tables t JOIN pg_trigger tg ON tg.tgrelid = t.oid
 WHERE NOT tg.tgisinternal
UNION ALL
SELECT format('rule %%I on %%I', r.rulename, t.relname)
  FROM tables t JOIN pg_rewrite r ON r.ev_class = t.oid
UNION ALL
SELECT format('policy %%I on %%I', p.polname, t.relname)
  FROM tables t JOIN pg_policy p ON p.polrelid = t.oid
UNION ALL
SELECT format('comment on %%s', pg_describe_object('pg_class'::regclass, o.oid, 0))
  FROM (SELECT oid FROM relations WHERE relkind <> 'r'
        UNION ALL
        SELECT x.indexrelid FROM tables t JOIN pg_index x ON x.indrelid = t.oid) o
  JOIN pg_description d ON d.objoid = o.oid AND d.classoid = 'pg_class'::regclass
UNION ALL
SELECT format('comment on constraint %%I', co.conname)
  FROM tables t
  JOIN pg_constraint co ON co.conrelid = t.oid
  JOIN pg_description d ON d.objoid = co.oid AND d.classoid = 'pg_constraint'::regclass
"""
)

# The statements that rebuild the source's tables, rows, sequence positions,
# constraints and indexes, in that order, each naming the copy's objects
# unqualified. Run with only the source on search_path, the pg_get_*
# functions render references to the source's own objects unqualified too,
# and anything outside it (public, pg_catalog types) qualified.
_COPY_SQL = (
    "WITH"  # noqa: S608 (constants only)
    + _MEMBERS_CTE
    + r""",
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
    -- Each table with its primary key, unique, check and exclusion constraints:
    -- declared inline they cost a fraction of an ALTER TABLE each.
    SELECT 1 AS phase, t.relname AS name, format(
               'CREATE %%sTABLE %%I (%%s)%%s',
               CASE WHEN t.relpersistence = 'u' THEN 'UNLOGGED ' ELSE '' END, t.relname,
               concat_ws(', ',
                   (SELECT string_agg(c.definition, ', ' ORDER BY c.attnum)
                      FROM columns c WHERE c.attrelid = t.oid),
                   (SELECT string_agg(format('CONSTRAINT %%I %%s', co.conname,
                                             pg_get_constraintdef(co.oid)),
                                      ', ' ORDER BY co.conname)
                      FROM pg_constraint co
                     WHERE co.conrelid = t.oid AND co.contype <> 'f')),
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
    -- Identity sequences keep counting from where the source's stopped, as
    -- they would had the same migrations inserted the same rows.
    SELECT 3, c.sequence, format(
               'SELECT setval(%%L, last_value, is_called) FROM %%I.%%I',
               quote_ident(c.sequence), %(ns)s, c.sequence)
      FROM columns c WHERE c.sequence IS NOT NULL
    UNION ALL
    -- Foreign keys once every table and its keys exist, one ALTER TABLE a table.
    SELECT 5, t.relname, format(
               'ALTER TABLE %%I %%s', t.relname,
               string_agg(format('ADD CONSTRAINT %%I %%s', co.conname,
                                 pg_get_constraintdef(co.oid)),
                          ', ' ORDER BY co.conname))
      FROM pg_constraint co JOIN tables t ON t.oid = co.conrelid
     WHERE co.contype = 'f'
     GROUP BY t.relname
    UNION ALL
    -- pg_get_indexdef() always qualifies the table; drop the source's name.
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
    UNION ALL
    -- Statistics for the tables that came with rows (content types,
    -- permissions, roles...), which the source's ANALYZE counted: without
    -- them the planner guesses their size until autovacuum comes round, and
    -- an API call read ~280 buffers instead of ~35, its permission lookup most.
    SELECT 8, t.relname, format('ANALYZE %%I', t.relname)
      FROM tables t WHERE t.reltuples > 0
)
SELECT statement FROM statements ORDER BY phase, name
"""
)


def _copy_statements(cursor, source: str) -> list[str]:
    """The statements that copy ``source`` into the schema first on search_path."""
    cursor.execute("SELECT set_config('search_path', quote_ident(%s), true)", [source])
    cursor.execute(_UNSUPPORTED_SQL, {"ns": source})
    unsupported = [name for (name,) in cursor.fetchall()]
    if unsupported:
        raise SchemaNotCopyable(
            f"Schema {source} holds objects a schema copy cannot make: "
            f"{', '.join(unsupported)}. Teach the copy about them, or drop them."
        )
    cursor.execute(_COPY_SQL, {"ns": source})
    return [statement for (statement,) in cursor.fetchall()]
