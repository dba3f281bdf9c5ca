"""
gunicorn as ``make serve`` runs it (gunicorn.conf.py, DEBUG off), on a free
loopback port, for tests/test_serve.py and tests/test_healthz.py.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from worker_process import _database_url

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nobody listens on (closed again at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(*args, **environment):
    """Run manage.py with DEBUG off, as ``make serve`` does; raise on failure."""
    env = {**os.environ, **production_environment(), **environment}
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=600)


def production_environment() -> dict:
    from django.conf import settings

    return {
        "DEBUG": "False",
        "SECURE_SSL_REDIRECT": "False",
        "SECRET_KEY": "test-serve-" + "x" * 50,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.CELERY_BROKER_URL,
    }


class Server:
    """``with Server(log_path, **environment) as base_url:`` serves until the block ends."""

    def __init__(self, log_path: Path, **environment):
        self.log_path = log_path
        self.environment = environment
        self.port = free_port()
        self.process = None

    def __enter__(self):
        env = {
            **os.environ,
            **production_environment(),
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": "2",
            **self.environment,
        }
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        base_url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(f"{base_url}/healthz", timeout=5)
                return base_url
            except requests.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise RuntimeError(self.log_path.read_text()[-3000:]) from None
                time.sleep(0.5)

    def __exit__(self, *exc_info):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
