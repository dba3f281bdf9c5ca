"""
A counter that moves whenever a tenant or domain row changes, however it is
changed (save(), QuerySet.update(), raw SQL, psql): tenants/routing.py reads it
every few seconds to know whether its cached host lookups still hold, instead
of looking every host up again every few seconds.

A sequence, not a row: nextval() takes no lock, so concurrent signups and
tenant updates never wait on each other for it, and it is never rolled back.
The triggers are deferred constraint triggers, so the counter moves when the
changing transaction commits, not when it first touched the row (a
long transaction such as a signup copying a schema would otherwise move it
seconds before its rows become visible).
"""

from django.db import migrations

TABLES = ("tenants_tenant", "tenants_domain")

FORWARD = [
    "CREATE SEQUENCE tenants_routing_version",
    """
    CREATE FUNCTION tenants_routing_version_bump() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
    BEGIN
        PERFORM nextval('tenants_routing_version');
        RETURN NULL;
    END
    $$
    """,
    *(
        f"""
        CREATE CONSTRAINT TRIGGER {table}_routing_version
        AFTER INSERT OR UPDATE OR DELETE ON {table}
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION tenants_routing_version_bump()
        """
        for table in TABLES
    ),
    *(
        f"""
        CREATE TRIGGER {table}_routing_version_truncate
        AFTER TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION tenants_routing_version_bump()
        """
        for table in TABLES
    ),
]

BACKWARD = [
    *(f"DROP TRIGGER {table}_routing_version_truncate ON {table}" for table in TABLES),
    *(f"DROP TRIGGER {table}_routing_version ON {table}" for table in TABLES),
    "DROP FUNCTION tenants_routing_version_bump()",
    "DROP SEQUENCE tenants_routing_version",
]


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0006_jobrun"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
