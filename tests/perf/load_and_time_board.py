"""Load a million fulfillments into PostgreSQL and time the support pages against them.

    .venv/bin/python tests/perf/load_and_time_board.py [--rows N] [--runs N] [--explain]
        [--keep] [--reuse]

Creates the ``crm_perf`` database on ``PERF_PG`` (default postgresql://postgres@127.0.0.1:5432),
migrates it, loads orders, fulfillments, shipments and timeline events with set-based SQL
(``INSERT ... SELECT`` over ``generate_series``, no ORM), then requests the board, the
fulfillments list with filters, the failed review and searches through the Flask test
client as a logged-in user, and prints each page's median and worst time with its slowest
SQL statement. ``--explain`` adds EXPLAIN ANALYZE of that statement for pages over the
budget. The database is dropped at the end
unless ``--keep`` is given; ``--reuse`` times a kept database without loading it again.

Not collected by pytest (tests/perf is outside the default run).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from harness import KEYS  # noqa: E402 (beside this file)

SERVER = os.environ.get("PERF_PG", "postgresql://postgres@127.0.0.1:5432")
DB_NAME = "crm_perf"
BUDGET_MS = 300
PASSWORD = "perf perf perf"

#: status mix (cumulative share) and how long ago records in it were created (days)
MIX = [("delivered", 0.80, 365), ("shipped", 0.845, 20), ("pending_shipment", 0.875, 10),
       ("pending", 0.905, 5), ("hold", 0.925, 3), ("failed", 0.945, 60),
       ("cancelled", 0.975, 365), ("returned", 1.0, 365)]
#: the moves each status went through after Hold, with days after creation
PATHS = {"pending": [("hold", "pending", 0.05)],
         "pending_shipment": [("hold", "pending", 0.05), ("pending", "pending_shipment", 1)],
         "shipped": [("hold", "pending", 0.05), ("pending", "pending_shipment", 1),
                     ("pending_shipment", "shipped", 2)],
         "delivered": [("hold", "pending", 0.05), ("pending", "pending_shipment", 1),
                       ("pending_shipment", "shipped", 2), ("shipped", "delivered", 4)],
         "returned": [("hold", "pending", 0.05), ("pending", "pending_shipment", 1),
                      ("pending_shipment", "returned", 9)],
         "failed": [("hold", "failed", 0.05)], "cancelled": [("hold", "cancelled", 0.1)]}


def load(conn: psycopg.Connection, rows: int) -> None:
    """Orders, fulfillments, shipments and events for ``rows`` fulfillments, set-based."""
    status_case = "CASE " + " ".join(f"WHEN r < {share} THEN '{s}'" for s, share, _ in MIX) + " END"
    age_case = "CASE " + " ".join(f"WHEN r < {share} THEN {days}" for _s, share, days in MIX) \
        + " END"
    conn.execute(f"""
        CREATE TEMP TABLE seed AS
        SELECT i, {status_case} AS status, now() AT TIME ZONE 'utc'
                 - ({age_case}) * a * interval '1 day' AS created, b
        FROM (SELECT i, random() AS r, random() AS a, random() AS b
              FROM generate_series(1, {rows}) AS i) s""")
    conn.execute("""
        INSERT INTO "order" (id, email, first_name, last_name, phone, address1, address2, city,
                             state, postal_code, country, total, created_at, updated_at,
                             created_by)
        SELECT i, 'customer' || i || '@example.com',
               (ARRAY['Grace','Alan','Ada','Edsger','Barbara','Donald'])[1 + i % 6],
               'Name' || (i % 200000), '', i || ' Main Street', '', 'Springfield', 'IL',
               lpad((10000 + i % 89999)::text, 5, '0'), 'US', 49.00, created, created, 'perf'
        FROM seed""")
    conn.execute("""
        INSERT INTO fulfillment (id, reference, order_id, house_account_id, status, due_at,
            outcome_unknown, attempts, last_error, house_reference, sent_at, tracking_number,
            carrier, ship_method, shipped_at, delivered_at, returned_at, next_check_at,
            failure_reason, failure_message, carrier_exception, tracking_stale, is_reshipment,
            rma_number, created_at, updated_at)
        SELECT i, 'FF' || upper(lpad(to_hex(i), 16, '0')), i, 1 + i % 4, status, created,
            false, CASE WHEN status = 'hold' THEN 0 ELSE 1 END, '',
            CASE WHEN status NOT IN ('hold', 'failed', 'cancelled') THEN 'H' || i END,
            CASE WHEN status NOT IN ('hold', 'failed', 'cancelled')
                 THEN created + interval '1 hour' END,
            CASE WHEN status IN ('pending_shipment', 'shipped', 'delivered', 'returned')
                 THEN '1Z' || lpad(i::text, 16, '0') END,
            CASE WHEN status IN ('pending_shipment', 'shipped', 'delivered', 'returned')
                 THEN 'ups' ELSE '' END, '',
            CASE WHEN status IN ('pending_shipment', 'shipped', 'delivered', 'returned')
                 THEN created + interval '1 day' END,
            CASE WHEN status = 'delivered' THEN created + interval '4 days' END,
            CASE WHEN status = 'returned' THEN created + interval '9 days' END,
            CASE WHEN status IN ('pending', 'pending_shipment', 'shipped')
                 THEN now() AT TIME ZONE 'utc' + interval '15 minutes' END,
            CASE WHEN status = 'failed'
                 THEN (ARRAY['address','sku','stock','credentials','other'])[1 + i % 5] END,
            CASE WHEN status = 'failed' THEN 'Rejected by the house.' ELSE '' END,
            '', status = 'shipped' AND b < 0.02, false, '', created,
            created + CASE status WHEN 'hold' THEN interval '0'
                                  WHEN 'pending' THEN interval '1 hour'
                                  WHEN 'failed' THEN interval '1 hour'
                                  WHEN 'cancelled' THEN interval '2 hours'
                                  WHEN 'pending_shipment' THEN interval '1 day'
                                  WHEN 'shipped' THEN interval '2 days'
                                  WHEN 'delivered' THEN interval '4 days'
                                  ELSE interval '9 days' END
        FROM seed""")
    conn.execute("""
        INSERT INTO shipment (fulfillment_id, tracking_number, carrier, ship_method, shipped_at,
            carrier_status, carrier_detail, delivered_at, status_source, next_check_at, checks,
            done, created_at)
        SELECT id, tracking_number, 'ups', '', shipped_at,
            CASE status WHEN 'pending_shipment' THEN 'pre_transit' WHEN 'shipped'
                 THEN 'in_transit' ELSE status END, '', delivered_at, 'carrier:ups',
            next_check_at, 3, status IN ('delivered', 'returned'), shipped_at
        FROM fulfillment WHERE tracking_number IS NOT NULL""")
    steps = ", ".join(f"('{status}', '{a}', '{b}', {days}, {n})"
                      for status, path in PATHS.items() for n, (a, b, days) in enumerate(path))
    conn.execute("""
        INSERT INTO fulfillment_event (fulfillment_id, from_status, to_status, source, actor,
                                       detail, applied, created_at)
        SELECT i, NULL, 'hold', 'order_entry', 'perf', 'Order placed.', true, created FROM seed""")
    conn.execute(f"""
        INSERT INTO fulfillment_event (fulfillment_id, from_status, to_status, source, actor,
                                       detail, applied, created_at)
        SELECT s.i, p.from_status, p.to_status, 'dispatch', 'perf', '', true,
               s.created + p.days * interval '1 day'
        FROM seed s JOIN (VALUES {steps}) AS p(status, from_status, to_status, days, n)
             ON p.status = s.status
        WHERE s.created + p.days * interval '1 day' < now() AT TIME ZONE 'utc'""")
    for table in ("order", "fulfillment", "shipment", "fulfillment_event"):
        conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                     f"(SELECT max(id) FROM \"{table}\"))")


def make_app(url: str, instance: Path):
    from dashboard import redis_conn
    from dashboard.app import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": str(instance),
                       **KEYS, "WTF_CSRF_ENABLED": False,
                       "ALLOW_CUSTOM_BASE_URLS": True,
                       "API_RATE_LIMIT": "1000000 per minute",
                       "REDIS_URL": redis_conn.embedded_url(instance)})


def seed_accounts(app) -> None:
    from dashboard import credentials
    from dashboard.extensions import db
    from dashboard.models import HouseAccount, User
    with app.app_context():
        for n in range(1, 5):
            db.session.add(HouseAccount(id=n, adapter_key="sandbox", title=f"Sandbox {n}",
                                        credentials_encrypted=credentials.encrypt(
                                            {"api_key": "sbx_feedfacecafe0001"})))
        user = User(email="perf@example.com", name="Perf Support", role="support")
        user.set_password(PASSWORD)
        db.session.add(user)
        from werkzeug.security import generate_password_hash

        from dashboard.models import ApiUser
        api_user = ApiUser(login_id="perf", password_hash=generate_password_hash(PASSWORD),
                           ip_allowlist="127.0.0.1", permissions="order_query,fulfillment_query")
        api_user.accounts = [db.session.get(HouseAccount, 1)]
        db.session.add(api_user)
        db.session.commit()
        db.session.execute(db.text("SELECT setval(pg_get_serial_sequence('house_account', "
                                   "'id'), 4)"))
        db.session.commit()


def pages(app, rows: int) -> list[tuple[str, str]]:
    """The requests to time, with real values from the loaded data."""
    from datetime import date, timedelta

    from sqlalchemy import select

    from dashboard.extensions import db
    from dashboard.models import Fulfillment, Order
    with app.app_context():
        tracking = db.session.scalar(select(Fulfillment.tracking_number)
                                     .where(Fulfillment.tracking_number.is_not(None))
                                     .order_by(Fulfillment.id.desc()).limit(1))
        email, last_name = db.session.execute(select(Order.email, Order.last_name)
                                              .where(Order.id == rows // 2 + 1)).one()
    week = date.today() - timedelta(days=30)
    return [("board", "/"),
            ("list, no filter", "/fulfillments/"),
            ("list, hold in account 2", "/fulfillments/?status=hold&account=2"),
            ("list, delivered in a week", f"/fulfillments/?status=delivered&since={week}"
                                          f"&until={week + timedelta(days=6)}"),
            ("list, reason address", "/fulfillments/?reason=address"),
            ("list, stuck pending", "/fulfillments/?stuck=pending_no_tracking"),
            ("list, tracking stale", "/fulfillments/?stuck=tracking_stale"),
            ("list, returned, later page", f"/fulfillments/?status=returned&after={rows // 2}"),
            ("failed review", "/review/"),
            ("failed review, sku in account 3", "/review/?reason=sku&account=3"),
            ("search tracking number", f"/fulfillments/?q={tracking}"),
            ("search email", f"/fulfillments/?q={email}"),
            ("search last name", f"/fulfillments/?q={last_name}"),
            ("search order id", f"/fulfillments/?q={rows // 3}"),
            ("Order Query API, one week", "/order/query/?loginId=perf&password="
             f"{PASSWORD.replace(' ', '+')}&startDate={week:%m/%d/%Y}"
             f"&endDate={week + timedelta(days=6):%m/%d/%Y}&resultsPerPage=25&page=2")]


def time_pages(app, rows: int, runs: int, explain: bool) -> list[tuple[str, float, float, str]]:
    from sqlalchemy import event

    from dashboard.extensions import db
    client = app.test_client()
    response = client.post("/login", data={"email": "perf@example.com", "password": PASSWORD})
    assert response.status_code == 302, "could not log in"
    with app.app_context():
        engine = db.engine
    statements: list[tuple[float, str, object]] = []

    def before(conn, cursor, statement, params, context, many):
        conn.info["t0"] = time.perf_counter()

    def after(conn, cursor, statement, params, context, many):
        statements.append((time.perf_counter() - conn.info["t0"], statement, params))
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    results = []
    for label, path in pages(app, rows):
        assert client.get(path).status_code == 200, path  # warm the caches once
        times = []
        for _ in range(runs):
            statements.clear()
            start = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, path
        slowest = max(statements, key=lambda s: s[0])
        results.append((label, statistics.median(times), max(times),
                        f"{slowest[0] * 1000:.0f} ms in {len(statements)} queries"))
        if explain and max(times) > BUDGET_MS:
            with app.app_context(), db.engine.connect() as conn:
                plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + slowest[1],
                                            slowest[2]).scalars().all()
            print(f"\n--- {label}: slowest statement\n{slowest[1]}\n" + "\n".join(plan))
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)
    return results


def measure(rows: int, runs: int = 5, *, explain: bool = False, keep: bool = False,
            reuse: bool = False) -> list[tuple[str, float, float, str]]:
    """Load ``rows`` fulfillments (unless ``reuse``) and time every page."""
    url = f"{SERVER}/{DB_NAME}"
    if not reuse:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    instance = Path(tempfile.mkdtemp(prefix="crm-perf-"))
    from dashboard import redis_conn
    try:
        app = make_app(url, instance)
        if not reuse:
            from flask_migrate import upgrade
            with app.app_context():
                upgrade()
            seed_accounts(app)
            start = time.perf_counter()
            with psycopg.connect(url) as conn:
                load(conn, rows)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
            sys.stdout.write(f"Loaded {rows:,} fulfillments in "
                             f"{time.perf_counter() - start:.0f} s.\n")
        results = time_pages(app, rows, runs, explain)
        with app.app_context():
            from dashboard.extensions import db
            db.engine.dispose()
        return results
    finally:
        redis_conn.stop_embedded(instance)
        if not keep:
            with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="timed requests per page")
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN ANALYZE the slowest statement of pages over budget")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument("--reuse", action="store_true",
                        help="time the database a --keep run left, without loading it")
    args = parser.parse_args()
    results = measure(args.rows, args.runs, explain=args.explain, keep=args.keep,
                      reuse=args.reuse)
    width = max(len(label) for label, *_ in results)
    sys.stdout.write(f"{'page':<{width}}  median ms  worst ms  slowest SQL\n")
    for label, median, worst, slowest in results:
        flag = "  OVER BUDGET" if worst > BUDGET_MS else ""
        sys.stdout.write(f"{label:<{width}}  {median:9.0f}  {worst:8.0f}  {slowest}{flag}\n")
    return 1 if any(worst > BUDGET_MS for _l, _m, worst, _s in results) else 0


if __name__ == "__main__":
    sys.exit(main())
