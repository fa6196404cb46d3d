"""Benchmarks at scale, each beside the baseline that bounds it, run in one process tree at
the same moment so the ratios hold on a noisy machine.

    scripts/bench                 # everything, 10k and 100k dispatch, 100k and 1M pages
    scripts/bench dispatch        # one part: dispatch, ratelimit, latency, api, pages, scale
    BENCH_QUICK=1 scripts/bench   # smaller sizes, for a quick look

Prints a table and writes perf-results/bench.json. Uses PostgreSQL (BENCH_PG) and Redis
(BENCH_REDIS, else an embedded one).
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import requests

sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parent)]

import harness  # noqa: E402

from jobs.dispatch import send_now  # noqa: E402

QUICK = bool(os.environ.get("BENCH_QUICK"))
RESULTS: list[dict] = []


def result(part: str, metric: str, ours, baseline=None, unit: str = "", target: str = "",
           ok: bool | None = None, note: str = "") -> None:
    ratio = (ours / baseline) if (baseline and isinstance(ours, (int, float))) else None
    RESULTS.append({"part": part, "metric": metric, "ours": ours, "baseline": baseline,
                    "ratio": round(ratio, 3) if ratio else None, "unit": unit,
                    "target": target, "met": ok, "note": note})
    print(f"  {part:10} {metric:40} {ours!s:>12} {unit:8} "
          f"{'' if baseline is None else f'baseline {baseline} ratio {ratio:.2f}'} "
          f"{'' if ok is None else ('MET' if ok else 'MISSED')} {note}", flush=True)


# ------------------------------------------------------------------ dispatch


def _simulator(port: int, *extra):
    return harness.process("-m", "simulators.shipstation", "--port", str(port), *extra,
                           port_wait=port)


def _baseline_orders_per_second(base: str, count: int) -> float:
    """A plain HTTP client posting the same batches of 100 to the same simulator."""
    session = requests.Session()
    session.auth = ("ss-api-key", "ss-api-secret")
    started = time.perf_counter()
    for start in range(0, count, 100):
        batch = [{
            "orderNumber": f"B{start + i}", "orderKey": f"BASE{start + i:09d}",
            "orderDate": "2026-11-28T10:00:00", "orderStatus": "awaiting_shipment",
            "customerEmail": f"c{start + i}@example.com", "billTo": {"name": "Casey Buyer"},
            "shipTo": {"name": "Casey Buyer", "street1": f"{i} Main St", "city": "Austin",
                       "state": "TX", "postalCode": "73301", "country": "US"},
            "items": [{"sku": "WIDGET-1", "name": "Product WIDGET-1", "quantity": 1,
                       "unitPrice": 10.0}],
            "advancedOptions": {"storeId": 310001}} for i in range(min(100, count - start))]
        response = session.post(f"{base}/orders/createorders", json=batch, timeout=60)
        response.raise_for_status()
    return count / (time.perf_counter() - started)


def _our_run(base: str, count: int) -> tuple[float, int]:
    """The real dispatch job on a real RQ worker; orders/s and the worker's peak RSS."""
    import redis
    from rq import Queue
    harness.fresh_database()
    with harness.connect() as conn:
        account = harness.add_account(conn, "shipstation", "Bench ShipStation", {
            "api_key": "ss-api-key", "api_secret": "ss-api-secret", "store_id": "310001",
            "base_url": base})
        harness.load_fulfillments(conn, [account], count, status="hold")
    conn = redis.Redis.from_url(harness.redis_url())
    conn.flushdb()
    job = Queue("fulfillment", connection=conn).enqueue(send_now,
                                                        kwargs={"account_id": account},
                                                        job_timeout=7200)
    with harness.process("-m", "flask", "worker", "--burst") as worker, \
            harness.PeakMemory(worker.pid) as memory:
        worker.wait()
    job.refresh()
    # the job's own time, as the raw client's: not the worker process starting up
    elapsed = (job.ended_at - job.started_at).total_seconds()
    with harness.connect() as db:
        pending = db.execute("SELECT count(*) FROM fulfillment WHERE status = 'pending'"
                             ).fetchone()[0]
    if pending != count:
        raise RuntimeError(f"dispatch sent {pending} of {count}")
    return count / elapsed, memory.peak


def bench_dispatch() -> None:
    """Our worker and a raw client against the same simulator, instant (``--unchecked``:
    without the checks against the house's document, which cost the simulator several
    times what answering does and would hide what we cost), then answering in 150 ms."""
    sizes = (2_000, 10_000) if QUICK else (10_000, 100_000)
    peaks = {}
    for count in sizes:
        port = harness.free_port()
        with _simulator(port, "--no-rate-limit", "--unchecked"):
            base = f"http://127.0.0.1:{port}"
            ours, peak = _our_run(base, count)
            requests.post(f"{base}/_control/reset", timeout=10)
            baseline = _baseline_orders_per_second(base, count)
            creations = requests.get(f"{base}/_control/creations", timeout=30).json()
        peaks[count] = peak
        result("dispatch", f"orders/s at {count:,}, instant house", round(ours),
               round(baseline), "orders/s", "≥ 0.3× raw client", ours >= 0.3 * baseline)
        result("dispatch", f"created once each at {count:,}",
               sum(1 for v in creations.values() if v == 1), count, "orders")
    # the same at a real house's pace: every answer takes 150 ms, as over the internet
    count = 10_000
    port = harness.free_port()
    with _simulator(port, "--no-rate-limit", "--unchecked", "--latency", "0.15"):
        base = f"http://127.0.0.1:{port}"
        ours, _peak = _our_run(base, count)
        requests.post(f"{base}/_control/reset", timeout=10)
        baseline = _baseline_orders_per_second(base, count)
    result("dispatch", f"orders/s at {count:,}, house answers in 150 ms", round(ours),
           round(baseline), "orders/s", "≥ 0.8× raw client", ours >= 0.8 * baseline)
    small, large = sizes
    result("dispatch", f"worker peak RSS {small:,} → {large:,}",
           round(peaks[large] / 2**20, 1), round(peaks[small] / 2**20, 1), "MiB",
           "flat (≤ 1.25×)", peaks[large] <= 1.25 * peaks[small])


def bench_ratelimit() -> None:
    """The ShipStation simulator allowing 40 requests per 6 s (its minute scaled down):
    how much of that allowance the dispatch job uses, and how many 429s it causes."""
    import redis
    from rq import Queue
    count = 10_000 if QUICK else 30_000  # 100 or 300 requests of 100 orders
    port = harness.free_port()
    with _simulator(port):
        base = f"http://127.0.0.1:{port}"
        requests.post(f"{base}/_control/rate-limit", json={"enabled": True, "limit": 40,
                                                          "window": 6}, timeout=10)
        harness.fresh_database()
        with harness.connect() as conn:
            account = harness.add_account(conn, "shipstation", "Bench ShipStation", {
                "api_key": "ss-api-key", "api_secret": "ss-api-secret",
                "store_id": "310001", "base_url": base})
            harness.load_fulfillments(conn, [account], count, status="hold")
        conn = redis.Redis.from_url(harness.redis_url())
        conn.flushdb()
        Queue("fulfillment", connection=conn).enqueue(
            send_now, kwargs={"account_id": account}, job_timeout=7200)
        before = requests.get(f"{base}/_control/stats", timeout=10).json()
        started = time.perf_counter()
        with harness.process("-m", "flask", "worker", "--burst") as worker:
            worker.wait()
        elapsed = time.perf_counter() - started
        after = requests.get(f"{base}/_control/stats", timeout=10).json()
    used = after["allowed"] - before["allowed"]
    refused = after["refused_429"] - before["refused_429"]
    allowance = 40 * elapsed / 6
    windows = elapsed / 6
    result("ratelimit", f"allowance used over {elapsed:.0f} s", round(100 * used / allowance, 1),
           unit="%", target="≥ 95 %", ok=used / allowance >= 0.95,
           note=f"{used} requests, {count:,} orders")
    result("ratelimit", "429 answers", refused, unit="", target=f"≤ edges (~{windows:.0f})",
           ok=refused <= windows)


def bench_latency() -> None:
    """Send-at-once accounts: orders placed at a steady rate, time from creation to the
    house's acceptance (our sent_at, stamped right after the house's answer)."""
    count, rate = (200, 10) if QUICK else (1000, 10)
    port = harness.free_port()
    with _simulator(port, "--no-rate-limit"):
        base = f"http://127.0.0.1:{port}"
        harness.fresh_database()
        with harness.connect() as conn:
            account = harness.add_account(conn, "shipstation", "Bench ShipStation", {
                "api_key": "ss-api-key", "api_secret": "ss-api-secret",
                "store_id": "310001", "base_url": base}, send_immediately=True)
            conn.execute("INSERT INTO product (name, sku, price, shippable, hold_delay_hours,"
                         " house_account_id, created_at) VALUES ('Widget', 'WIDGET-1', 10,"
                         " true, 0, %s, now())", (account,))
            conn.commit()
        import redis
        redis.Redis.from_url(harness.redis_url()).flushdb()
        from dashboard.app import create_app
        from dashboard.services import order_entry
        app = create_app({"SQLALCHEMY_DATABASE_URI": harness.database_url().replace(
            "postgresql://", "postgresql+psycopg://"), "REDIS_URL": harness.redis_url(),
            "INSTANCE_DIR": harness.child_env()["INSTANCE_DIR"],
            "ALLOW_CUSTOM_BASE_URLS": True, **harness.KEYS})
        customer = {"first_name": "Casey", "last_name": "Buyer", "email": "c@example.com",
                    "phone": "", "address1": "1 Main St", "address2": "", "city": "Austin",
                    "state": "TX", "postal_code": "73301", "country": "US"}
        with harness.process("-m", "flask", "worker"), \
                harness.process("-m", "flask", "worker"), app.app_context():
            time.sleep(3)  # both workers listening
            from dashboard.extensions import db
            from dashboard.models import Product
            pid = db.session.query(Product.id).scalar()
            started = time.perf_counter()
            for n in range(count):
                order_entry.place_order(customer, [order_entry.Line(pid, 1)], actor="bench")
                delay = started + (n + 1) / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            deadline = time.time() + 120
            while time.time() < deadline:
                with harness.connect() as conn:
                    left = conn.execute("SELECT count(*) FROM fulfillment WHERE status = 'hold'"
                                        ).fetchone()[0]
                if not left:
                    break
                time.sleep(0.5)
    with harness.connect() as conn:
        waits = [row[0] for row in conn.execute(
            "SELECT extract(epoch FROM f.sent_at - o.created_at) FROM fulfillment f"
            " JOIN \"order\" o ON o.id = f.order_id WHERE f.sent_at IS NOT NULL")]
    waits.sort()
    p50, p95 = waits[len(waits) // 2], waits[int(len(waits) * 0.95) - 1]
    result("latency", f"order → house p50 ({len(waits)}/{count} at {rate}/s)",
           round(float(p50), 2), unit="s")
    result("latency", "order → house p95", round(float(p95), 2), unit="s", target="≤ 10 s",
           ok=p95 <= 10)


def _load(url_for_call, seconds: float, threads: int = 16) -> tuple[float, list[float]]:
    """Requests/s and latencies (ms) of ``threads`` clients calling for ``seconds``."""
    import threading
    latencies: list[float] = []
    errors: list[str] = []
    stop = time.perf_counter() + seconds
    lock = threading.Lock()

    def client():
        session = requests.Session()
        mine = []
        while time.perf_counter() < stop:
            url = url_for_call()
            t0 = time.perf_counter()
            response = session.get(url, timeout=30)
            mine.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200 or (
                    response.headers.get("Content-Type", "").startswith("application/json")
                    and response.json().get("result") == "ERROR"):
                errors.append(response.text[:200])
        with lock:
            latencies.extend(mine)
    workers = [threading.Thread(target=client) for _ in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise RuntimeError(f"{len(errors)} failed calls, e.g. {errors[0]}")
    return len(latencies) / (time.perf_counter() - started), sorted(latencies)


def _pct(values: list[float], share: float) -> float:
    return round(values[min(len(values) - 1, int(len(values) * share))], 1)


def bench_api() -> None:
    """Update Fulfillment, Order Query and Fulfillment Query under concurrent load on
    gunicorn, against a trivial endpoint on the same server: 1,000,000 fulfillments (quick:
    100,000) spread so that the queried date range (yesterday and today) holds a fifth of
    them, 200,000 orders; the query clients walk pages 1, 2, 3 … of that range as an
    importer does, page numbers kept within the data."""
    import itertools
    import threading
    from datetime import date, datetime, timedelta

    from werkzeug.security import generate_password_hash
    count = 100_000 if QUICK else 1_000_000
    today = date.today()
    yesterday = today - timedelta(days=1)
    span = (datetime.now() - datetime.combine(yesterday, datetime.min.time())).total_seconds()
    days = max(1, round(span * 5 / 86400))  # the range holds about a fifth of the data
    harness.fresh_database()
    with harness.connect() as conn:
        account = harness.add_account(conn, "shipmonk_pull", "Bench ShipMonk (pull)", {})
        harness.load_fulfillments(conn, [account], count, status="pending", days=days)
        user = conn.execute(
            "INSERT INTO api_user (login_id, password_hash, label, active, ip_allowlist,"
            " permissions, created_at, created_by) VALUES ('bench', %s, 'Bench', true,"
            " '127.0.0.1', 'order_query,fulfillment_query,fulfillment_update', now(), 'bench')"
            " RETURNING id", (generate_password_hash("bench-pass"),)).fetchone()[0]
        conn.execute("INSERT INTO api_user_account VALUES (%s, %s)", (user, account))
        first = conn.execute("SELECT min(id) FROM fulfillment").fetchone()[0]
        in_range = conn.execute('SELECT count(*) FROM "order" WHERE created_at >= %s',
                                (yesterday,)).fetchone()[0]
        conn.commit()
    port = harness.free_port()
    env = harness.child_env(API_RATE_LIMIT="100000000 per minute")
    base = f"http://127.0.0.1:{port}"
    auth = "loginId=bench&password=bench-pass"
    ids = itertools.count(first)
    lock = threading.Lock()

    def update_url():
        with lock:
            fid = next(ids)
        return (f"{base}/fulfillment/update/?{auth}&fulfillmentId={fid}"
                f"&fulfillmentStatus=SHIPPED&trackingNumber=1ZBENCH{fid:010d}"
                f"&dateShipped={today:%m/%d/%Y}&shipCarrier=UPS")

    dates = f"startDate={yesterday:%m/%d/%Y}&endDate={today:%m/%d/%Y}&resultsPerPage=25"
    last_page = min(199, in_range // 25)  # every page asked holds data

    def walker(path):
        pages = itertools.cycle(range(1, last_page + 1))
        return lambda: f"{base}{path}?{auth}&{dates}&page={next(pages)}"
    seconds = 8 if QUICK else 20
    with harness.process("-m", "gunicorn", "--workers", "2", "--threads", "4", "--bind",
                         f"127.0.0.1:{port}", "wsgi:app", env=env, port_wait=port):
        requests.get(f"{base}/healthz", timeout=120)  # workers booted, on a busy machine too
        requests.get(walker("/order/query/")(), timeout=120)  # warm: the password is remembered
        trivial, trivial_ms = _load(lambda: f"{base}/healthz", seconds)
        updates, update_ms = _load(update_url, seconds)
        orders, order_ms = _load(walker("/order/query/"), seconds)
        fulfillments, fulfillment_ms = _load(walker("/fulfillment/query/"), seconds)
    result("api", "trivial endpoint", round(trivial), unit="req/s",
           note=f"p50 {_pct(trivial_ms, .5)} ms, p99 {_pct(trivial_ms, .99)} ms")
    size = f"{count:,} fulfillments, {in_range:,} orders in range"
    for name, rate, lat in (("Update Fulfillment (SHIPPED)", updates, update_ms),
                            ("Order Query (25 per page)", orders, order_ms),
                            ("Fulfillment Query (25 per page)", fulfillments, fulfillment_ms)):
        result("api", f"{name} req/s", round(rate), round(trivial), "req/s",
               "≥ 0.5× trivial", rate >= 0.5 * trivial, note=size)
        result("api", f"{name} p99", _pct(lat, .99), unit="ms", target="p99 < 100 ms",
               ok=_pct(lat, .99) < 100, note=f"p50 {_pct(lat, .5)} ms")


def bench_pages() -> None:
    """Board, lists, failed review and Order Query at two sizes: time per page and the
    ratio between the sizes."""
    import load_and_time_board as board
    small, large = (20_000, 200_000) if QUICK else (100_000, 1_000_000)
    timed = {}
    for rows in (small, large):
        timed[rows] = {label: median for label, median, _worst, _sql
                       in board.measure(rows, runs=5)}
    for label, at_large in timed[large].items():
        at_small = timed[small][label]
        result("pages", label, round(at_large, 1), round(at_small, 1), "ms",
               f"< 300 ms at {large:,}, ≤ 1.5× {small:,}",
               at_large < 300 and at_large <= 1.5 * max(at_small, 10),
               note=f"median of 5 at {large:,} vs {small:,}")


def bench_scale() -> None:
    """1, 2 and 4 separate worker processes: throughput, a shared rate limit (tests/perf/
    scale.py)."""
    import scale
    scale.bench_scale(result, QUICK)


PARTS = {"dispatch": bench_dispatch, "ratelimit": bench_ratelimit, "latency": bench_latency,
         "api": bench_api, "pages": bench_pages, "scale": bench_scale}


def main(argv: list[str]) -> int:
    chosen = argv or list(PARTS)
    for name in chosen:
        if name not in PARTS:
            print(f"unknown part {name!r}; choose from {', '.join(PARTS)}")
            return 2
    print(f"benchmarks on {harness.database_url()} and {harness.redis_url()}"
          f"{' (quick sizes)' if QUICK else ''}")
    try:
        for name in chosen:
            print(f"== {name}", flush=True)
            PARTS[name]()
    finally:
        harness.drop_database()
        out = harness.ROOT / "perf-results"
        out.mkdir(exist_ok=True)
        (out / "bench.json").write_text(json.dumps(RESULTS, indent=2, default=str))
    print(f"\n{len(RESULTS)} figures written to perf-results/bench.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
