"""
The embedded PostgreSQL server used when ``DATABASE_URL`` is not set.

``pgserver`` ships PostgreSQL binaries in a wheel, so a fresh machine needs
nothing but Python. The server is started once and left running
(``cleanup_mode=None``) so that ``make run`` and repeated test runs reuse it;
it listens on a Unix socket inside its data directory.
"""

import logging
from pathlib import Path

import psycopg2
from filelock import FileLock

DATABASE_NAME = "smartmaintenance"

# pgserver logs from an atexit hook, after the streams may be closed.
logging.getLogger("pgserver").setLevel(logging.WARNING)


def _database_exists(data_dir: Path) -> bool:
    try:
        connection = psycopg2.connect(
            host=str(data_dir), user="postgres", dbname=DATABASE_NAME, connect_timeout=3
        )
    except psycopg2.OperationalError:
        return False
    connection.close()
    return True


def _start_and_create(data_dir: Path) -> None:
    import pgserver

    pgserver.get_server(data_dir, cleanup_mode=None)
    connection = psycopg2.connect(host=str(data_dir), user="postgres", dbname="postgres")
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    finally:
        connection.close()


def ensure_database(data_dir: Path) -> dict:
    """
    Start (or reuse) the server in ``data_dir``, create the project's database
    on it if needed, and return a Django ``DATABASES`` entry for it.
    """
    data_dir = Path(data_dir)
    if not _database_exists(data_dir):
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        # pgserver fails when two processes initialise one data folder at the
        # same moment, and two CREATE DATABASE race too: one process at a time.
        with FileLock(str(data_dir.parent / f"{data_dir.name}.lock")):
            if not _database_exists(data_dir):
                _start_and_create(data_dir)
    return {"NAME": DATABASE_NAME, "USER": "postgres", "HOST": str(data_dir), "PORT": ""}
