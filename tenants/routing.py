"""
Host → tenant lookups, cached in process.

Stock django-tenants runs a domain + tenant query on every request. Here each
process keeps what it found for a host (the tenant, or that there is none) for
``TENANT_ROUTING_CACHE_SECONDS``, at most 5 seconds. That is the documented bound
for a change to reach *other* processes; the process that makes the change
forgets everything at once, because saving or deleting a ``Tenant`` or
``Domain`` calls ``clear()`` (see ``tenants.signals``). So does committing the
transaction that made the change, as other threads may have looked the old row
up again in between.

Changes made with ``QuerySet.update()`` or raw SQL send no signal: they reach
every process, this one included, within the bound.

Entries only ever describe committed rows: a connection with uncommitted
tenant or domain changes (``connection.tenant_routing_changed``, set by the
signal receivers, reset on commit or rollback) looks up but does not store,
since other threads must not see rows that may yet be rolled back.
"""

import threading
import time

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models.base import ModelState
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.models import Domain

DEFAULT_SECONDS = 3
MAX_SECONDS = 5

# Unknown hosts are cached too, so the table is capped: past this many hosts it
# starts over, which costs one query per host, never a wrong answer.
MAX_ENTRIES = 10_000

# hostname -> (monotonic expiry, Tenant or None, names of its mutable attributes).
# Reads take no lock: a dict lookup is atomic, and an entry is replaced, never
# changed in place.
_entries = {}
_lock = threading.Lock()
# Bumped by every clear(), so a lookup that started before a clear() cannot
# store what it read after it.
_generation = 0


def cache_seconds():
    seconds = getattr(settings, "TENANT_ROUTING_CACHE_SECONDS", DEFAULT_SECONDS)
    if not 0 <= seconds <= MAX_SECONDS:
        raise ImproperlyConfigured(
            f"TENANT_ROUTING_CACHE_SECONDS must be between 0 and {MAX_SECONDS}: it is "
            f"how long another process may keep routing to a suspended tenant."
        )
    return seconds


def clear():
    """Forget every cached lookup in this process."""
    global _generation
    with _lock:
        _generation += 1
        _entries.clear()


def tenant_for_hostname(hostname):
    """
    Return the tenant that ``hostname`` (lower case, no port) routes to, or
    raise ``Domain.DoesNotExist``.

    Every call returns a new instance, so a request may change its tenant
    without touching the cached one that other threads are copying.
    """
    entry = _entries.get(hostname)
    if entry is not None and entry[0] > time.monotonic():
        _expiry, tenant, mutable = entry
    else:
        generation = _generation
        try:
            with schema_context(get_public_schema_name()):
                tenant = Domain.objects.select_related("tenant").get(domain=hostname).tenant
        except Domain.DoesNotExist:
            tenant = None
        mutable = _store(hostname, tenant, generation)
    if tenant is None:
        raise Domain.DoesNotExist(f"No domain {hostname!r}.")
    return _copy(tenant, mutable)


def _store(hostname, tenant, generation):
    mutable = _mutable_attributes(tenant)
    seconds = cache_seconds()
    if not seconds or getattr(connection, "tenant_routing_changed", False):
        return mutable
    with _lock:
        if generation == _generation:
            if len(_entries) >= MAX_ENTRIES:
                _entries.clear()
            _entries[hostname] = (time.monotonic() + seconds, tenant, mutable)
    return mutable


def _mutable_attributes(tenant):
    # The cached instance is never handed out, so its attributes are still the
    # values read from the database: immutable, apart from JSON dicts and lists.
    if tenant is None:
        return ()
    return tuple(name for name, value in vars(tenant).items() if isinstance(value, dict | list))


def _json_copy(value):
    # copy.deepcopy() does this too, several times slower.
    if isinstance(value, dict):
        return {key: _json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_copy(item) for item in value]
    return value


def _copy(tenant, mutable):
    """A copy of a cached tenant that shares nothing mutable with it."""
    clone = tenant.__class__.__new__(tenant.__class__)
    attributes = clone.__dict__
    attributes.update(tenant.__dict__)
    for name in mutable:
        attributes[name] = _json_copy(attributes[name])
    attributes["_state"] = state = ModelState()
    state.db, state.adding = tenant._state.db, False
    return clone
