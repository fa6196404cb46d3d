"""What the benchmarks share: a PostgreSQL database of their own, fast loading with COPY,
child processes built like the app, and peak-memory sampling.

Not collected by pytest (tests/perf is outside the default run); used by bench.py.
"""
from __future__ import annotations

import io
import os
import random
import secrets
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import psutil
import psycopg

ROOT = Path(__file__).resolve().parents[2]
SERVER = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_DB", "crm_bench")
#: the keys the benchmark's processes share, as hosts on one PostgreSQL must
KEYS = {"SECRET_KEY": "bench-secret",
        "CREDENTIAL_KEYS": "q7Yx0v3Pbz7m0Wk1m5jv8yq3oW4V7mC2l0Q9sJ1d2xE="}


def database_url() -> str:
    return f"{SERVER}/{DB_NAME}"


def fresh_database() -> str:
    """Drop and create the benchmark database, migrate it, and return its URL."""
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT,
                   env=child_env(), check=True, capture_output=True)
    return database_url()


def drop_database() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def redis_url() -> str:
    import redis
    url = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/14")
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
        return url
    except redis.RedisError:
        from dashboard.redis_conn import embedded_url
        return embedded_url(ROOT / "instance" / "bench")


def child_env(**extra) -> dict:
    return {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": redis_url(),
            "FLASK_APP": "wsgi", "TZ": "UTC", "PYTHONPATH": str(ROOT),
            "ALLOW_CUSTOM_BASE_URLS": "1", "INSTANCE_DIR": str(ROOT / "instance" / "bench"),
            **KEYS, **extra}


def connect():
    return psycopg.connect(database_url(), autocommit=False)


def add_account(conn, adapter_key: str, title: str, credentials: dict, *,
                send_immediately: bool = False) -> int:
    """An account row with credentials encrypted by the app's own code."""
    from dashboard import credentials as creds
    from dashboard.app import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url().replace(
        "postgresql://", "postgresql+psycopg://"), "INSTANCE_DIR": child_env()["INSTANCE_DIR"],
        **KEYS})
    with app.app_context():
        token = creds.encrypt(credentials)
    row = conn.execute(
        "INSERT INTO house_account (adapter_key, title, credentials_encrypted, active,"
        " send_immediately, webhook_token, created_at, updated_at)"
        " VALUES (%s, %s, %s, true, %s, %s, now(), now()) RETURNING id",
        (adapter_key, title, token, send_immediately, secrets.token_urlsafe(24))).fetchone()
    conn.commit()
    return row[0]


STATUS_MIX = (("delivered", 0.55), ("shipped", 0.08), ("pending_shipment", 0.07),
              ("pending", 0.05), ("hold", 0.15), ("failed", 0.05), ("cancelled", 0.03),
              ("returned", 0.02))
REASONS = ("address", "sku", "stock", "other")


def load_fulfillments(conn, accounts: list[int], count: int, *, status: str | None = None,
                      sku: str = "WIDGET-1", days: int = 60, seed: int = 7) -> None:
    """COPY ``count`` orders, items, fulfillments, fulfillment items and events.

    ``status`` None gives a realistic mix (mostly delivered, some held, failed, ...) over
    the last ``days``; a status gives that status to all, due now.
    """
    rng = random.Random(seed)
    from dashboard.clock import utcnow
    now = utcnow().replace(microsecond=0)
    product_id = conn.execute(
        "INSERT INTO product (name, sku, price, shippable, hold_delay_hours, created_at)"
        " VALUES (%s, %s, 10, true, 0, now()) ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name"
        " RETURNING id", (f"Product {sku}", sku)).fetchone()[0]
    base_order = conn.execute("SELECT coalesce(max(id), 0) FROM \"order\"").fetchone()[0]
    base_item = conn.execute("SELECT coalesce(max(id), 0) FROM order_item").fetchone()[0]
    base_f = conn.execute("SELECT coalesce(max(id), 0) FROM fulfillment").fetchone()[0]
    statuses = [s for s, _ in STATUS_MIX]
    weights = [w for _, w in STATUS_MIX]
    for start in range(0, count, 100_000):
        n = min(100_000, count - start)
        orders, items, fulls, fitems, events = (io.StringIO() for _ in range(5))
        for i in range(n):
            k = start + i
            oid, iid, fid = base_order + k + 1, base_item + k + 1, base_f + k + 1
            created = now - timedelta(seconds=rng.randint(1, days * 86400))
            st = status or rng.choices(statuses, weights)[0]
            account = accounts[k % len(accounts)]
            orders.write(f"{oid}\tc{k}@example.com\tCasey\tBuyer{k}\t\t{k} Main St\t\tAustin\tTX"
                         f"\t73301\tUS\t10.00\t{created}\t{created}\tbench\n")
            items.write(f"{iid}\t{oid}\t{product_id}\tProduct {sku}\t{sku}\t1\t10.00\tt\t{fid}\n")
            updated = created + timedelta(hours=rng.randint(0, 72)) if st != "hold" else created
            tracking = f"1Z{k:016d}" if st in ("pending_shipment", "shipped", "delivered",
                                               "returned") else "\\N"
            reason = rng.choice(REASONS) if st == "failed" else "\\N"
            sent = updated if st not in ("hold", "failed", "cancelled") else "\\N"
            fulls.write(f"{fid}\tFB{k:014d}\t{oid}\t{account}\t{st}\t{created}\t\\N\t\\N\tf\t0\t"
                        f"\t\\N\t{sent}\t\\N\t{tracking}\tups\t\t\\N\t\\N\t\\N\t{updated}\t"
                        f"{reason}\t{'Rejected by the house' if st == 'failed' else ''}\t\tf\tf"
                        f"\t\\N\t\t{created}\t{updated}\n")
            fitems.write(f"{fid}\t{fid}\t{iid}\t{product_id}\tProduct {sku}\t{sku}\t1\t10.00\n")
            events.write(f"{fid}\t\\N\thold\torder_entry\tbench\t\tt\t{created}\n")
            if st != "hold":
                events.write(f"{fid}\thold\t{st}\tdispatch\tbench\t\tt\t{updated}\n")
        with conn.cursor() as cur:
            for table, columns, data in (
                ('"order"', "id, email, first_name, last_name, phone, address1, address2, city,"
                 " state, postal_code, country, total, created_at, updated_at, created_by",
                 orders),
                ("order_item", "id, order_id, product_id, name, sku, quantity, price, shippable,"
                 " fulfillment_id", items),
                ("fulfillment", "id, reference, order_id, house_account_id, status, due_at,"
                 " claim_token, claimed_at, outcome_unknown, attempts, last_error,"
                 " house_reference, sent_at, date_exported, tracking_number, carrier,"
                 " ship_method, shipped_at, delivered_at, returned_at, next_check_at,"
                 " failure_reason, failure_message, carrier_exception, tracking_stale,"
                 " is_reshipment, reship_of_id, rma_number, created_at, updated_at", fulls),
                ("fulfillment_item", "id, fulfillment_id, order_item_id, product_id, name, sku,"
                 " quantity, price", fitems),
                ("fulfillment_event", "fulfillment_id, from_status, to_status, source, actor,"
                 " detail, applied, created_at", events),
            ):
                if table == "order_item":
                    continue  # after fulfillment (foreign key)
                _copy(cur, table, columns, data)
                if table == "fulfillment":
                    _copy(cur, "order_item", "id, order_id, product_id, name, sku, quantity,"
                          " price, shippable, fulfillment_id", items)
        conn.commit()
    for table in ('"order"', "order_item", "fulfillment", "fulfillment_item"):
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                     f" (SELECT max(id) FROM {table}))")
    conn.commit()
    conn.execute("ANALYZE")
    conn.commit()


def _copy(cur, table: str, columns: str, data: io.StringIO) -> None:
    data.seek(0)
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        while chunk := data.read(1 << 20):
            copy.write(chunk)


@contextmanager
def process(*args, env=None, port_wait: int | None = None):
    """A child process in the project root, killed on exit."""
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env or child_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if port_wait:
            wait_for_port(port_wait)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_for_port(port: int, seconds: float = 30) -> None:
    import socket
    deadline = time.time() + seconds
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PeakMemory:
    """Samples the resident memory of a process and its children (RQ's work horse)."""

    def __init__(self, pid: int, every: float = 0.02):
        self.pid, self.every, self.peak = pid, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            try:
                parent = psutil.Process(self.pid)
                for p in [parent, *parent.children(recursive=True)]:
                    self.peak = max(self.peak, p.memory_info().rss)
            except psutil.Error:
                pass
            time.sleep(self.every)
