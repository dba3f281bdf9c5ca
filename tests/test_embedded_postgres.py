"""The embedded server: two processes starting it at once share one server."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg2

from smartmaintenance.embedded_postgres import SHARED_BUFFERS

PROJECT_DIR = Path(__file__).resolve().parent.parent

START = (
    "import sys; from smartmaintenance.embedded_postgres import ensure_database; "
    "print(ensure_database(sys.argv[1])['HOST'])"
)


def test_two_processes_starting_the_server_at_once_share_one_server(tmp_path):
    data_dir = tmp_path / "pg"
    starters = [
        subprocess.Popen(
            [sys.executable, "-c", START, str(data_dir)],
            cwd=PROJECT_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        results = [starter.communicate(timeout=120) for starter in starters]

        assert [starter.returncode for starter in starters] == [0, 0], results
        assert {out.strip() for out, _err in results} == {str(data_dir)}
        postmasters = subprocess.run(
            ["pgrep", "-f", f"postgres -D {data_dir} "], capture_output=True, text=True, check=False
        ).stdout.split()
        assert len(postmasters) == 1
        connection = psycopg2.connect(
            host=str(data_dir), user="postgres", dbname="smartmaintenance"
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
            # Room for many tenants' pages, applied by a restart the first time.
            cursor.execute("SHOW shared_buffers")
            assert cursor.fetchone() == (SHARED_BUFFERS,)
        connection.close()
    finally:
        pid_file = data_dir / "postmaster.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text().splitlines()[0]), signal.SIGTERM)


def test_a_machine_that_cannot_map_the_buffers_gets_a_server_with_the_default(tmp_path):
    data_dir = tmp_path / "pg"
    # Far more than this machine can map: the restart fails, as it would on a
    # small one with 512 MB.
    script = (
        "import sys; from smartmaintenance import embedded_postgres; "
        "embedded_postgres.SHARED_BUFFERS = '7TB'; "
        "print(embedded_postgres.ensure_database(sys.argv[1])['HOST'])"
    )
    try:
        started = subprocess.run(
            [sys.executable, "-c", script, str(data_dir)],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

        assert started.returncode == 0, started.stderr
        assert "could not start with shared_buffers = 7TB" in started.stderr
        connection = psycopg2.connect(
            host=str(data_dir), user="postgres", dbname="smartmaintenance"
        )
        with connection.cursor() as cursor:
            cursor.execute("SHOW shared_buffers")
            assert cursor.fetchone() == ("128MB",)
        connection.close()
    finally:
        pid_file = data_dir / "postmaster.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text().splitlines()[0]), signal.SIGTERM)
