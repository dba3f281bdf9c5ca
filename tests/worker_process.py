"""
A real Celery worker for the tests that need one (tests/test_jobs.py).

It runs in a process of its own, on the test database and on a broker
database of the tests' own (``TEST_BROKER_DB``), so it sees only what a test
has committed and never a development worker's messages. Under pytest-xdist
each test process has its own broker database, as it has its own test database.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from django.db import connection

from smartmaintenance.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
# gw0 → 9, gw1 → 10, ...; 9 when the tests run in one process.
TEST_BROKER_DB = 9 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def test_broker_url(url: str) -> str:
    """``url`` on the tests' own Redis database."""
    if url.startswith("redis+socket://"):
        return f"{url.split('?')[0]}?virtual_host={TEST_BROKER_DB}"
    return urlunsplit(urlsplit(url)._replace(path=f"/{TEST_BROKER_DB}"))


def _database_url() -> str:
    database = connection.settings_dict
    user = database["USER"]
    if database.get("PASSWORD"):
        user += f":{quote(database['PASSWORD'], safe='')}"
    if database["HOST"].startswith("/"):
        # The embedded server listens on a Unix socket: its folder goes as a
        # connection option, which django-environ passes on as it is.
        return f"postgres://{user}@/{database['NAME']}?host={database['HOST']}"
    port = f":{database['PORT']}" if database["PORT"] else ""
    return f"postgres://{user}@{database['HOST'] or 'localhost'}{port}/{database['NAME']}"


class Worker:
    """A worker process: ``start()``, ``kill_pool_process()``, ``stop()``."""

    def __init__(self, log_path: Path, concurrency: int = 1, **environment):
        self.log_path = log_path
        self.concurrency = concurrency
        self.environment = environment
        self.process = None

    def start(self):
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": celery_app.conf.broker_url,
            # The worker imports test helpers (e.g. a slow mail backend) from tests/.
            "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)]),
            **self.environment,
        }
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "--app",
                "smartmaintenance",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                str(self.concurrency),
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.wait_for_log("ready.")
        return self

    def output(self) -> str:
        return self.log_path.read_text()

    def wait_for_log(self, text: str, timeout: float = 60, count: int = 1) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            output = self.output()
            if output.count(text) >= count:
                return output
            if self.process.poll() is not None:
                raise AssertionError(f"The worker exited:\n{output}")
            time.sleep(0.1)
        raise AssertionError(
            f"{text!r} not seen in the worker's log within {timeout}s:\n{self.output()}"
        )

    def pool_process_ids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def kill_pool_process(self) -> int:
        """SIGKILL the pool process running a task, as the kernel's OOM killer would."""
        (pid,) = self.pool_process_ids()
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
