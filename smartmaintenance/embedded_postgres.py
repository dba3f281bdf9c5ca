"""
The embedded PostgreSQL server used when ``DATABASE_URL`` is not set.

``pgserver`` ships PostgreSQL binaries in a wheel, so a fresh machine needs
nothing but Python. The server is started once and left running
(``cleanup_mode=None``) so that ``make run`` and repeated test runs reuse it;
it listens on a Unix socket inside its data directory.

PostgreSQL's default ``shared_buffers`` (128 MB) is sized for a small
machine. With many tenants every schema has its own copy of the tables an API
call reads (about 0.3 MB of pages a tenant), and 1,000 tenants' pages did not
fit: each call over them read ~27 pages from outside the buffer cache, none
over 10 tenants (``bench/scale.py``; docs/deployment.md sizes it for
production). A new data folder's server is given room for that.
"""

import logging
import subprocess
from pathlib import Path

import psycopg2
from filelock import FileLock
from psycopg2 import sql

DATABASE_NAME = "smartmaintenance"

# pgserver logs from an atexit hook, after the streams may be closed.
logging.getLogger("pgserver").setLevel(logging.WARNING)
logger = logging.getLogger(__name__)

SHARED_BUFFERS = "512MB"


def _database_exists(data_dir: Path, name: str) -> bool:
    try:
        connection = psycopg2.connect(
            host=str(data_dir), user="postgres", dbname=name, connect_timeout=3
        )
    except psycopg2.OperationalError:
        return False
    connection.close()
    return True


def _start_and_create(data_dir: Path, name: str) -> None:
    import pgserver

    fresh = not (data_dir / "PG_VERSION").exists()
    server = pgserver.get_server(data_dir, cleanup_mode=None)
    if fresh:
        # Before the database exists, so no other process has connected yet:
        # they wait for it on the lock (ensure_database).
        _shared_buffers_raise(server, data_dir)
    connection = psycopg2.connect(host=str(data_dir), user="postgres", dbname="postgres")
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()


def _shared_buffers_raise(server, data_dir: Path) -> None:
    """
    Give a new server ``SHARED_BUFFERS``, which takes a restart. Where the
    machine cannot map that much, it keeps PostgreSQL's default rather than
    not start at all. An existing server keeps its setting: a restart would
    cut off whoever is connected (docs/deployment.md says how to raise it).
    """
    import pgserver

    connection = psycopg2.connect(host=str(data_dir), user="postgres", dbname="postgres")
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("ALTER SYSTEM SET shared_buffers = %s", [SHARED_BUFFERS])
    finally:
        connection.close()
    try:
        # pg_ctl restarts with the options the server was started with (postmaster.opts).
        pgserver.pg_ctl(
            ["-w", "-l", str(server.log), "restart"],
            pgdata=data_dir,
            user=server.system_user,
            timeout=60,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        auto_conf = data_dir / "postgresql.auto.conf"
        kept = [
            line
            for line in auto_conf.read_text().splitlines(keepends=True)
            if not line.startswith("shared_buffers")
        ]
        auto_conf.write_text("".join(kept))
        server.ensure_postgres_running()
        logger.warning(
            "The embedded PostgreSQL could not start with shared_buffers = %s; "
            "it runs with the default.",
            SHARED_BUFFERS,
        )


def ensure_database(data_dir: Path, name: str = DATABASE_NAME) -> dict:
    """
    Start (or reuse) the server in ``data_dir``, create database ``name`` (the
    project's, or a bench's own) on it if needed, and return a Django
    ``DATABASES`` entry for it.
    """
    data_dir = Path(data_dir)
    if not _database_exists(data_dir, name):
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        # pgserver fails when two processes initialise one data folder at the
        # same moment, and two CREATE DATABASE race too: one process at a time.
        with FileLock(str(data_dir.parent / f"{data_dir.name}.lock")):
            if not _database_exists(data_dir, name):
                _start_and_create(data_dir, name)
    return {"NAME": name, "USER": "postgres", "HOST": str(data_dir), "PORT": ""}
