"""
Faults survived (issue 15, point 7):

- the database restarted under load: requests fail only while it is down,
  and the app recovers by itself (CONN_HEALTH_CHECKS replaces the dead
  persistent connections). The "restart" drops every connection to the test
  database and refuses new ones, from a connection to the maintenance
  database, then allows them again: only this suite's own database is touched;
- an upload whose transaction rolled back leaves no file behind: the daily
  sweep (attachments.sweep) deletes files no row refers to, after a grace
  period.

Redis down is tests/test_jobs.py's broker-down test; signup interrupted at
each step is tests/test_signup.py's and tests/security/test_claims.py's.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from wsgiref.util import setup_testing_defaults

import psycopg2
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context
from psycopg2 import sql

from accounts.api_keys import api_key_create
from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from attachments.models import Attachment
from attachments.services import attachment_create
from attachments.sweep import ORPHAN_GRACE_PERIOD, orphaned_files_sweep
from attachments.tasks import attachments_sweep_orphans
from billing.services import tenant_change_plan
from requests_app.services import request_create
from smartmaintenance.celery import app as celery_app
from tenants import jobs

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
CLIENTS = 4


# --- The database restarted under load -------------------------------------------------


class Database:
    """This test database, operated from the maintenance database as a restart would."""

    def __init__(self):
        params = connection.get_connection_params()
        self.name = connection.settings_dict["NAME"]
        self.params = {**params, "dbname": "postgres"}

    def _run(self, sql, *args):
        admin = psycopg2.connect(**self.params)
        admin.autocommit = True
        try:
            with admin.cursor() as cursor:
                cursor.execute(sql, args)
        finally:
            admin.close()

    def stop(self, keep_pid):
        # Refuse new connections first, then drop the open ones (but the
        # test's own, which holds its transaction).
        self._run(self._allow(False))
        self._run(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> %s",
            self.name,
            keep_pid,
        )

    def start(self):
        self._run(self._allow(True))

    def _allow(self, allowed):
        return sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
            sql.Identifier(self.name), sql.SQL("true" if allowed else "false")
        )


@pytest.fixture
def busy_tenant(committed_tenant, in_own_connection):
    tenant = committed_tenant("outage")

    def key():
        with schema_context(get_public_schema_name()):
            tenant_change_plan(tenant=tenant, plan="premium", actor="test")
        with tenant_context(tenant):
            roles = roles_provision_defaults()
            user = user_create(
                email="ops@outage.example", password=None, roles=[roles[BuiltinRole.ADMIN]]
            )
            return api_key_create(by=user, user=user, name="load", access="read_write")[1]

    return tenant, in_own_connection(key)


def test_requests_fail_only_while_the_database_is_down_and_recover_by_themselves(busy_tenant):
    tenant, raw_key = busy_tenant
    host = tenant.get_primary_domain().domain
    database = Database()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        test_pid = cursor.fetchone()[0]

    # Each worker thread keeps its persistent connection between requests,
    # as a server's threads do. Requests go through Django's WSGI handler as
    # a server sends them (the test client would skip close_old_connections,
    # where the health check is re-armed for each request).
    pool = ThreadPoolExecutor(CLIENTS)
    handler = WSGIHandler()

    def get(_n):
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/api/v1/me/",
            "HTTP_HOST": host,
            "HTTP_AUTHORIZATION": f"Bearer {raw_key}",
        }
        setup_testing_defaults(environ)
        answer = {}
        body = handler(environ, lambda status, headers: answer.update(status=status))
        try:
            content = b"".join(body)
        finally:
            body.close()  # What a server does: request_finished, connections tidied.
        return int(answer["status"].split()[0]), content[:80]

    def load():
        return list(pool.map(get, range(CLIENTS * 5)))

    try:
        before = load()
        database.stop(test_pid)
        try:
            during = load()
        finally:
            database.start()
        after = load()
        # Restarted while nobody was asking: every persistent connection is
        # dead, and only the health check before reuse notices.
        database.stop(test_pid)
        database.start()
        later = load()
    finally:
        # One task per thread (the barrier holds each until all have one):
        # every thread closes its own connection.
        everyone = threading.Barrier(CLIENTS)

        def close(_n):
            everyone.wait(timeout=30)
            connection.close()

        list(pool.map(close, range(CLIENTS)))
        pool.shutdown()

    assert {status for status, _ in before} == {200}, before
    assert all(status >= 500 for status, _ in during), during
    # Straight after each restart, with no one restarting the app.
    assert {status for status, _ in after} == {200}, after
    assert {status for status, _ in later} == {200}, later


# --- Orphaned uploads ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _own_media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # django-tenants' storage caches the folder until this one changes.
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"


def _age(name, by):
    path = default_storage.path(name)
    then = (timezone.now() - by).timestamp()
    os.utime(path, (then, then))


def test_the_sweep_is_a_daily_job_of_every_tenant():
    celery_app.loader.import_default_modules()  # What a worker does at start.
    job = {job.name: job for job in jobs.jobs_registered()}["attachments.sweep_orphans"]
    assert job.local_hour is not None and job.task in celery_app.tasks


def test_a_rolled_back_upload_leaves_a_file_only_until_the_sweep(alpha):
    requester = user_create(email="upload@alpha.example", password=None)
    kept = attachment_create(
        file=SimpleUploadedFile("kept.png", PNG, content_type="image/png"),
        uploaded_by=requester,
        request=request_create(title="Kept", requester=requester),
    )
    stored = []

    class RolledBack(Exception):
        pass

    with pytest.raises(RolledBack), transaction.atomic():
        attachment = attachment_create(
            file=SimpleUploadedFile("lost.png", PNG, content_type="image/png"),
            uploaded_by=requester,
            request=request_create(title="Lost", requester=requester),
        )
        stored.append(attachment.file.name)
        raise RolledBack
    (orphan,) = stored
    assert not Attachment.objects.filter(file=orphan).exists()
    assert default_storage.exists(orphan)  # The gap the sweep closes.

    # Within the grace period the file may still be an upload in progress.
    assert orphaned_files_sweep() == []
    _age(orphan, ORPHAN_GRACE_PERIOD + timedelta(minutes=1))
    _age(kept.file.name, ORPHAN_GRACE_PERIOD + timedelta(days=30))
    fresh = default_storage.save("attachments/fresh.txt", ContentFile(b"in flight"))

    attachments_sweep_orphans.apply()

    assert not default_storage.exists(orphan)
    assert default_storage.exists(kept.file.name)  # A row refers to it.
    assert default_storage.exists(fresh)  # Too young to judge.
    assert orphaned_files_sweep() == []  # Idempotent.


def test_the_sweep_touches_only_its_own_tenants_folder(alpha, beta):
    with tenant_context(beta):
        theirs = default_storage.save("attachments/beta.txt", ContentFile(b"beta's"))
        _age(theirs, ORPHAN_GRACE_PERIOD * 2)
    with tenant_context(alpha):
        mine = default_storage.save("attachments/alpha.txt", ContentFile(b"alpha's"))
        _age(mine, ORPHAN_GRACE_PERIOD * 2)
        assert orphaned_files_sweep() == [mine]
    with tenant_context(beta):
        assert default_storage.exists(theirs)
