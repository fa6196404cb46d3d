"""``flask`` commands: users, the demo catalogue, the RQ worker and the scheduler."""
from __future__ import annotations

import os
import secrets
import time
import warnings
from decimal import Decimal

import click
import redis
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from rq import Worker
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.health.routes import worker_health
from dashboard.models import Product, User
from dashboard.redis_conn import connection, daemon_connection
from dashboard.services import audit, key_rotation, password_policy
from jobs.context import FlaskJob, configure_logging, use_app
from jobs.leadership import LeaderLock
from jobs.schedule import ReconcilingScheduler, register, run_forever

users = AppGroup("users", help="Dashboard users (admins and support staff).")
demo = AppGroup("demo", help="Demo data.")


@users.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(User.ROLES), default="support", show_default=True)
@click.option("--name", default="")
@click.option("--password", default=None,
              help="Leave out to generate one; it is printed once.")
def create_user(email: str, role: str, name: str, password: str | None):
    """Create a dashboard user."""
    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter("Give an email address.", param_hint="EMAIL")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise click.ClickException(f"A user with email {email} already exists.")
    if password is not None:
        problem = password_policy.problem(password, email=email, name=name)
        if problem:
            raise click.BadParameter(problem, param_hint="--password")
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    user = User(email=email, role=role, name=name)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user", user.id, "created", f"{role} {email}")
    db.session.commit()
    click.echo(f"Created {role} {email}." + (f" Password: {password}" if generated else ""))


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"No user has the email {email}.")
    return user


@users.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice(User.ROLES))
def set_role(email: str, role: str):
    """Give a user another role."""
    user = _user(email)
    before, user.role = user.role, role
    audit.record("user", user.id, "role changed", f"{user.email}: {before} → {role}")
    db.session.commit()
    click.echo(f"{user.email} is now {role}.")


@users.command("deactivate")
@click.argument("email")
def deactivate(email: str):
    """Stop a user from logging in; every session of theirs ends at once."""
    user = _user(email)
    user.active = False
    audit.record("user", user.id, "deactivated", f"{user.email}; sessions ended")
    db.session.commit()
    click.echo(f"{user.email} is deactivated and logged out everywhere.")


@users.command("ensure-admin")
@click.option("--email", default="admin@example.com", show_default=True)
def ensure_admin(email: str):
    """Create a first admin when there is none, and say how to log in."""
    if db.session.scalar(select(User.id).where(User.role == "admin")):
        click.echo("An admin account exists already; log in with it.")
        return
    password = secrets.token_urlsafe(12)
    user = User(email=email, role="admin", name="Admin")
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user", user.id, "created", f"first admin {email}")
    db.session.commit()
    click.echo(f"First admin created. Log in at http://127.0.0.1:5000/login with {email} / "
               f"{password}")


DEMO_PRODUCTS = (
    ("Trail Running Shoe", "SHOE-TRAIL-42", "89.00"),
    ("Merino Wool Socks (3 pack)", "SOCK-MERINO-3", "24.00"),
    ("Insulated Water Bottle", "BOTTLE-INS-750", "32.50"),
    ("Gift Card (digital)", "GIFT-DIGITAL-50", "50.00"),
    ("Headlamp Pro (backorder)", "LAMP-PRO-OOS", "45.00"),
)


@demo.command("load")
def load_demo():
    """Load a small catalogue (skipped for SKUs that exist)."""
    existing = set(db.session.scalars(select(Product.sku)))
    added = 0
    for name, sku, price in DEMO_PRODUCTS:
        if sku in existing:
            continue
        db.session.add(Product(name=name, sku=sku, price=Decimal(price),
                               shippable=not sku.startswith("GIFT")))
        added += 1
    db.session.commit()
    click.echo(f"Demo catalogue: {added} product(s) added, {len(existing)} already there.")


@click.command("worker")
@with_appcontext
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst: bool):
    """Run an RQ worker for the fulfillment queue."""
    configure_logging()
    use_app(current_app._get_current_object())
    try:
        Worker([current_app.config["RQ_QUEUE"]], connection=connection(), job_class=FlaskJob
               ).work(burst=burst, with_scheduler=False)
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        # at start, or signing off at a stop while Redis is away: say so in one line
        raise click.ClickException(f"the worker stopped without Redis ({exc}).") from None


@click.command("scheduler")
@with_appcontext
@click.option("--interval", default=30, show_default=True, help="Seconds between checks.")
def scheduler(interval: int):
    """Register the periodic jobs (idempotently) and run the scheduler in UTC. Start one
    on a second host as a standby: only the one holding the lock in Redis ticks."""
    os.environ["TZ"] = "UTC"
    time.tzset()
    # rq-scheduler's crontab call warns about a future default; we run in UTC either way
    warnings.filterwarnings("ignore", category=FutureWarning, module="rq_scheduler")

    configure_logging()
    queue_name = current_app.config["RQ_QUEUE"]
    conn = daemon_connection()

    def make():
        sched = ReconcilingScheduler(queue_name=queue_name, connection=conn,
                                     interval=interval, job_class=FlaskJob)
        for job_id, what in register(sched, queue_name).items():
            click.echo(f"schedule {job_id}: {what}")
        return sched
    # a standby takes over within the lock's lifetime after the active one died
    lock = LeaderLock(conn, f"{queue_name}:scheduler-leader", ttl=int(2 * interval + 10))
    run_forever(make, lock, interval=interval)


def init_app(app) -> None:
    for command in (users, demo, worker, scheduler, key_rotation.keys, worker_health):
        app.cli.add_command(command)
