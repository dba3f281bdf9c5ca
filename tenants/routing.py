"""
Host → tenant lookups, cached in process.

Stock django-tenants runs a domain + tenant query on every request. Here each
process keeps what it found for a host (the tenant, or that there is none) for
as long as no tenant or domain row has changed anywhere.

Whether one has is read from a counter in the public schema
(``tenants_routing_version``, a sequence that triggers on ``tenants_tenant`` and
``tenants_domain`` move when a transaction changing them commits, however it
changes them: ``save()``, ``QuerySet.update()``, raw SQL). Each process reads it
at most once every ``TENANT_ROUTING_CACHE_SECONDS`` (3 s; at most 5), one
query for all hosts, and forgets every lookup when it has moved. So a change
(a suspension, a plan change, a domain moved) reaches every process within
that bound, while a host served every few seconds is looked up once rather than
every few seconds: with 1,000 tenants each coming round every few seconds, the
old 3-second expiry per host made nearly every request a lookup.

The process that makes a change forgets everything at once, because saving or
deleting a ``Tenant`` or ``Domain`` calls ``clear()`` (see ``tenants.signals``),
and again when the transaction commits, as other threads may have looked the
old row up again in between.

The counter moves just before the commit makes the rows visible, so a lookup
made right after it moved may still read the old row. Lookups made within one
bound of seeing it move are therefore kept for one bound only, as before; after
that, until the next move. So are lookups made inside a transaction, which
may read a row that transaction changed without a signal and may yet roll
back. ``MAX_AGE`` caps any entry, in case a commit ever took longer than the
bound to become visible after its counter moved.

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
from psycopg2 import sql

from tenants.models import Domain

DEFAULT_SECONDS = 3
MAX_SECONDS = 5

# The longest an entry is kept even though the counter has not moved: a safety
# net, not the bound (see above). One lookup per host every 10 minutes.
MAX_AGE = 600

# The counter the triggers move (migration tenants 0007), in the public schema.
VERSION_SEQUENCE = "tenants_routing_version"

# Unknown hosts are cached too, so the table is capped: past this many hosts the
# unknown ones are dropped first, then everything, which costs one query per
# host, never a wrong answer.
MAX_ENTRIES = 10_000

# hostname -> (monotonic expiry, Tenant or None, names of its mutable attributes).
# Reads take no lock: a dict lookup is atomic, and an entry is replaced, never
# changed in place.
_entries = {}
_lock = threading.Lock()
# Bumped by every clear(), so a lookup that started before a clear() cannot
# store what it read after it.
_generation = 0
# The counter's value the entries were read under (None: not read yet), when it
# must be read again, and until when new entries are kept for one bound only.
_version = None
_check_at = 0.0
_settling_until = 0.0


def cache_seconds():
    seconds = getattr(settings, "TENANT_ROUTING_CACHE_SECONDS", DEFAULT_SECONDS)
    if not 0 <= seconds <= MAX_SECONDS:
        raise ImproperlyConfigured(
            f"TENANT_ROUTING_CACHE_SECONDS must be between 0 and {MAX_SECONDS}: it is "
            f"how long another process may keep routing to a suspended tenant."
        )
    return seconds


def clear():
    """Forget every cached lookup in this process, and read the counter again."""
    global _generation, _check_at
    with _lock:
        _generation += 1
        _entries.clear()
        _check_at = 0.0


def routing_version():
    """The counter that moves whenever a tenant or domain row changes (one query)."""
    query = sql.SQL("SELECT last_value FROM {}.{}").format(
        sql.Identifier(get_public_schema_name()), sql.Identifier(VERSION_SEQUENCE)
    )
    with connection.cursor() as cursor:
        cursor.execute(query)
        return cursor.fetchone()[0]


def _check(now, seconds):
    """Read the counter if it is due; forget every lookup if it has moved."""
    global _version, _check_at, _settling_until, _generation
    version = routing_version()
    with _lock:
        if version != _version:
            # On the first read too: a commit may be under way as the process starts.
            _settling_until = now + seconds
            _version = version
            _generation += 1
            _entries.clear()
        _check_at = now + seconds


def tenant_for_hostname(hostname):
    """
    Return the tenant that ``hostname`` (lower case, no port) routes to, or
    raise ``Domain.DoesNotExist``.

    Every call returns a new instance, so a request may change its tenant
    without touching the cached one that other threads are copying.
    """
    now = time.monotonic()
    seconds = cache_seconds()
    if seconds and now >= _check_at:
        _check(now, seconds)
    entry = _entries.get(hostname)
    if entry is not None and entry[0] > now:
        _expiry, tenant, mutable = entry
    else:
        generation = _generation
        try:
            with schema_context(get_public_schema_name()):
                tenant = Domain.objects.select_related("tenant").get(domain=hostname).tenant
        except Domain.DoesNotExist:
            tenant = None
        mutable = _store(hostname, tenant, generation, now, seconds)
    if tenant is None:
        raise Domain.DoesNotExist(f"No domain {hostname!r}.")
    return _copy(tenant, mutable)


def _store(hostname, tenant, generation, now, seconds):
    mutable = _mutable_attributes(tenant)
    if not seconds or getattr(connection, "tenant_routing_changed", False):
        return mutable
    with _lock:
        if generation == _generation:
            if len(_entries) >= MAX_ENTRIES:
                _evict()
            # Inside a transaction the row read may be one it changed with
            # update() (no signal) and may yet roll back: keep it one bound only.
            settled = now >= _settling_until and not connection.in_atomic_block
            _entries[hostname] = (now + (MAX_AGE if settled else seconds), tenant, mutable)
    return mutable


def _evict():
    # Unknown hosts first: a flood of made-up hosts must not evict the tenants.
    for hostname in [name for name, entry in _entries.items() if entry[1] is None]:
        del _entries[hostname]
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()


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
