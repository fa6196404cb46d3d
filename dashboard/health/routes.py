"""Health checks for a process manager or load balancer: ``/healthz`` (the process
answers), ``/readyz`` (it can reach its database and Redis) and ``flask worker-health``
(RQ workers are alive: their heartbeat in Redis is recent)."""
from __future__ import annotations

import socket
from datetime import datetime, timezone

import click
import redis
from flask import Blueprint, current_app
from flask.cli import with_appcontext
from rq import Queue, Worker
from sqlalchemy import text

from dashboard.extensions import db
from dashboard.redis_conn import resolve_url

bp = Blueprint("health", __name__)
#: seconds a readiness check may wait for the database or Redis
CHECK_TIMEOUT = 2
PLAIN = {"Content-Type": "text/plain; charset=utf-8"}


def readiness() -> dict[str, str]:
    """part -> "ok", or what went wrong (the error's kind only: nothing of the setup)."""
    found = {}
    try:
        db.session.execute(text("SELECT 1"))
        found["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 (any failure means not ready)
        found["database"] = f"unreachable ({type(exc).__name__})"
    finally:
        db.session.rollback()
    try:
        redis.Redis.from_url(resolve_url(current_app), socket_timeout=CHECK_TIMEOUT,
                             socket_connect_timeout=CHECK_TIMEOUT).ping()
        found["redis"] = "ok"
    except (redis.RedisError, OSError) as exc:
        found["redis"] = f"unreachable ({type(exc).__name__})"
    return found


@bp.get("/readyz")
def readyz():
    """200 when the database and Redis answer, else 503 saying which does not."""
    found = readiness()
    body = "\n".join(f"{part}: {state}" for part, state in found.items()) + "\n"
    return body, 200 if all(s == "ok" for s in found.values()) else 503, PLAIN


def live_workers(conn: redis.Redis, queue_name: str, *, host: str | None = None
                 ) -> list[tuple[str, float]]:
    """(name, seconds since its heartbeat) of the workers on ``queue_name`` whose heartbeat
    is within their own time to live (optionally only those on ``host``)."""
    at = datetime.now(timezone.utc)
    alive = []
    for worker in Worker.all(connection=conn, queue=Queue(queue_name, connection=conn)):
        beat = worker.last_heartbeat
        if beat is None or (host and worker.hostname != host):
            continue
        age = (at - beat.replace(tzinfo=timezone.utc)).total_seconds()
        if age <= worker.worker_ttl + 60:
            alive.append((worker.name, age))
    return alive


@click.command("worker-health")
@with_appcontext
@click.option("--min", "minimum", default=1, show_default=True,
              help="Fewer live workers than this is unhealthy.")
@click.option("--this-host", is_flag=True, help="Count only workers on this host.")
def worker_health(minimum: int, this_host: bool):
    """Exit 0 when at least --min RQ workers have a recent heartbeat, else 1."""
    queue_name = current_app.config["RQ_QUEUE"]
    try:
        conn = redis.Redis.from_url(resolve_url(current_app), socket_timeout=CHECK_TIMEOUT,
                                    socket_connect_timeout=CHECK_TIMEOUT)
        alive = live_workers(conn, queue_name, host=socket.gethostname() if this_host else None)
    except (redis.RedisError, OSError) as exc:
        raise click.ClickException(f"Redis is unreachable ({type(exc).__name__}).") from None
    for name, age in alive:
        click.echo(f"worker {name}: heartbeat {age:.0f} s ago")
    if len(alive) < minimum:
        raise click.ClickException(f"{len(alive)} live worker(s) on queue {queue_name}; "
                                   f"at least {minimum} expected.")
    click.echo(f"{len(alive)} live worker(s) on queue {queue_name}.")
