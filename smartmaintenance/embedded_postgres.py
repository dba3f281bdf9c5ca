"""
The embedded PostgreSQL server used when ``DATABASE_URL`` is not set.

``pgserver`` ships PostgreSQL binaries in a wheel, so a fresh machine needs
nothing but Python. The server is started once and left running
(``cleanup_mode=None``) so that ``make run`` and repeated test runs reuse it;
it listens on a Unix socket inside its data directory.
"""

import contextlib
from pathlib import Path

import psycopg2
from filelock import FileLock

DATABASE_NAME = "smartmaintenance"


def _connect(data_dir: Path, dbname: str):
    return psycopg2.connect(host=str(data_dir), user="postgres", dbname=dbname, connect_timeout=3)


def _server_answers(data_dir: Path) -> bool:
    try:
        _connect(data_dir, "postgres").close()
    except psycopg2.OperationalError:
        return False
    return True


def ensure_database(data_dir: Path) -> dict:
    """
    Start (or reuse) the server in ``data_dir`` and return a Django
    ``DATABASES`` entry for the project's database on it.
    """
    data_dir = Path(data_dir)
    if not _server_answers(data_dir):
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        # pgserver fails when two processes initialise one data folder at the
        # same moment; the lock makes the second one wait and then reuse it.
        with FileLock(str(data_dir.parent / "postgres.lock")):
            import pgserver

            pgserver.get_server(data_dir, cleanup_mode=None)

    connection = _connect(data_dir, "postgres")
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME])
            if cursor.fetchone() is None:
                # Another process may create it between our check and ours.
                with contextlib.suppress(psycopg2.errors.DuplicateDatabase):
                    cursor.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    finally:
        connection.close()

    return {"NAME": DATABASE_NAME, "USER": "postgres", "HOST": str(data_dir), "PORT": ""}
