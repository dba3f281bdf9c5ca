"""
django-tenants' PostgreSQL backend, changed in one respect: ``SET search_path``
is sent only when the path the connection's session has is not the one needed.

With ``TENANT_LIMIT_SET_CALLS`` the stock backend remembers the path it set,
but ``set_tenant()`` forgets it (and the content-type cache) even when the
schema does not change, so every request paid for one more round trip to set
the path its connection already had. Here ``search_path_set_schemas`` keeps
meaning "what this server session has": ``set_tenant()`` leaves it alone, and
it is compared with the path wanted when a cursor is taken. Everything that
can change the session's path still forgets it: rollback and rollback to a
savepoint (a ``SET`` is transactional), closing, and connecting anew.
"""

from django_tenants.postgresql_backend import base


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        # The search path the current tenant needs; computed on first use.
        self._search_paths = None
        # Set by tenants.signals when this transaction saved or deleted a tenant
        # or domain: until it ends, tenants.routing must not cache what it reads.
        self.tenant_routing_changed = False
        super().__init__(*args, **kwargs)

    def connect(self):
        # A new server session starts with the server's default search path.
        self.search_path_set_schemas = None
        super().connect()

    def close(self):
        self.tenant_routing_changed = False
        super().close()

    def commit(self):
        super().commit()
        self.tenant_routing_changed = False

    def rollback(self):
        self.tenant_routing_changed = False
        super().rollback()

    def set_tenant(self, tenant, include_public=True):
        if (
            tenant.schema_name == self.schema_name
            and include_public == self.include_public_schema
            and base.EXTRA_SET_TENANT_METHOD is None
        ):
            # Same schema: the search path, and the content types the parent
            # would forget, are still the right ones.
            self.tenant = tenant
            return
        search_path_set_schemas = self.search_path_set_schemas
        super().set_tenant(tenant, include_public)
        self.search_path_set_schemas = search_path_set_schemas
        self._search_paths = None

    def _get_cursor_search_paths(self):
        if self._search_paths is None:
            self._search_paths = super()._get_cursor_search_paths()
        return self._search_paths

    def _handle_search_path(self, cursor=None):
        # The parent sends SET unless a path is remembered; make sure the one
        # remembered is the one wanted now.
        if (
            self.search_path_set_schemas is not None
            and self.search_path_set_schemas != self._get_cursor_search_paths()
        ):
            self.search_path_set_schemas = None
        super()._handle_search_path(cursor)
