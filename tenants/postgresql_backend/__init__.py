"""django-tenants' PostgreSQL backend, minus a ``SET search_path`` per request; see base.py."""
