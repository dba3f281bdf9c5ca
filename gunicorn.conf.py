"""
gunicorn's settings for SmartMaintenance (``make serve``; docs/deployment.md).

Every value can be overridden from the environment, as on the command line
(``GUNICORN_CMD_ARGS``) or through the variables read below.
"""

import multiprocessing
import os

wsgi_app = "smartmaintenance.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers: the views are synchronous and database-bound, and each
# worker holds one PostgreSQL connection. Two per core plus one keeps the
# cores busy while some wait on the database.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"

# A request longer than this is killed and logged: nothing of ours should
# take 30 s (exports and other slow work run in Celery).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
# Behind a reverse proxy that keeps connections open to us.
keepalive = 5

# Workers are replaced now and then, in case something leaks. Not often: a
# new worker's PostgreSQL connection rebuilds the catalog caches of every
# tenant schema it serves, so with 1,000 tenants a worker replaced every
# 2,000 requests would spend half of them on first visits. What a worker and
# its backend hold is bounded by the tenant count anyway (docs/deployment.md).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 20000))
max_requests_jitter = 2000

# Load Django once in the master and fork it: faster starts, shared memory.
# Safe because nothing connects at import time; when_ready below closes any
# connection the master opened anyway, so no worker inherits a socket.
preload_app = True

# The access log names the tenant's schema each request was routed to
# (tenants.middleware.ACCESS_LOG_TENANT; "-" when the host matched none) and
# the time taken in milliseconds.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
access_log_format = '%(h)s %({smartmaintenance.tenant}e)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"

# The reverse proxy's address: only it may set X-Forwarded-Proto.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def when_ready(server):
    from django.db import connections

    connections.close_all()
