"""
HTTP pieces the gunicorn benches share (bench/http_routing.py, bench/load.py): a
gunicorn started as ``make serve`` starts it, and timed requests over
loopback from many threads.
"""

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_environment() -> dict:
    """What ``make serve`` sets: DEBUG off, plain http on loopback."""
    return {
        "DEBUG": "False",
        "SECURE_SSL_REDIRECT": "False",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-" + "k" * 50),
    }


def collectstatic() -> None:
    """Static files for DEBUG off (the manifest), once: ``make serve`` does the same."""
    if not (ROOT / "staticfiles" / "staticfiles.json").exists():
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "--verbosity", "0"],
            cwd=ROOT,
            env={**os.environ, **production_environment()},
            check=True,
        )


class Gunicorn:
    """``with Gunicorn(workers=2, **environment) as port:`` a server on loopback."""

    def __init__(self, workers: int | None = None, **environment):
        self.port = free_port()
        self.environment = {
            **os.environ,
            **production_environment(),
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_ACCESS_LOG": "",
            **({"WEB_CONCURRENCY": str(workers)} if workers else {}),
            **environment,
        }

    def __enter__(self) -> int:
        self.process = subprocess.Popen(  # noqa: S603 - our own server
            [str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py"],
            cwd=ROOT,
            env=self.environment,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                status, _body = request(self.port, "GET", "/healthz", "localhost")
                if status in (200, 503):
                    return self.port
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc_info):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)


def request(port, method, path, host, body=None, headers=None):
    """One request on a new connection (gunicorn's sync workers close each): (status, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers={"Host": host, **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@dataclass
class Tally:
    """Latencies (seconds), errors and wrong-tenant answers, from any number of threads."""

    latencies: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    wrong_tenant: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds, error=None, wrong=None):
        with self.lock:
            self.latencies.append(seconds)
            if error:
                self.errors.append(error)
            if wrong:
                self.wrong_tenant.append(wrong)

    def percentile(self, fraction) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def run_clients(clients: int, seconds: float, step) -> tuple[Tally, float]:
    """
    ``clients`` threads call ``step(client_index, tally)`` (which makes one
    request and records it) again and again for ``seconds``. Returns the
    tally and the wall time.
    """
    tally = Tally()
    stop = time.monotonic() + seconds

    def loop(index):
        while time.monotonic() < stop:
            step(index, tally)

    threads = [threading.Thread(target=loop, args=[index]) for index in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, time.monotonic() - started
