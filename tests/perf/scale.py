"""``scripts/bench scale``: 1, 2 and 4 worker processes, each configured only by its
environment (its own empty instance folder, the shared keys, PostgreSQL and Redis), as
separate hosts would run them.

- throughput: held orders over several accounts, each at its own simulator answering in
  150 ms without a rate limit: orders/s at 1, 2 and 4 workers and the ratio to one;
- sharing a limit: one account whose house allows 40 calls per 6 s: how much of that
  allowance 1, 2 and 4 workers use together, and how many 429s they cause;
- every run: each order created exactly once at its house.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack

import harness
import requests

LATENCY = "0.15"
#: calls per window and window (s) of the rate-limited house (its minute scaled down)
LIMIT, WINDOW = 40, 6
WORKERS = (1, 2, 4)


def _start_workers(n: int, **env) -> list[subprocess.Popen]:
    """``n`` worker processes, each with an instance folder of its own that starts empty."""
    procs = []
    for i in range(n):
        folder = tempfile.mkdtemp(prefix=f"crm-worker{i}-")
        log = open(harness.ROOT / "perf-results" / f"scale-worker{i}.log", "w")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "flask", "worker"], cwd=harness.ROOT,
            env=harness.child_env(INSTANCE_DIR=folder, **env), stdout=log,
            stderr=subprocess.STDOUT))
    return procs


def _dispatch_with(n: int, jobs: int, count: int, **env) -> float:
    """Start ``n`` workers, wait until all listen, queue ``jobs`` send jobs and time them
    until all have finished; every one of ``count`` held orders must be sent."""
    import redis
    from rq import Queue, Worker
    conn = redis.Redis.from_url(harness.redis_url())
    conn.flushdb()
    queue = Queue("fulfillment", connection=conn)
    procs = _start_workers(n, **env)
    try:
        deadline = time.time() + 180
        while Worker.count(queue=queue) < n:
            if time.time() > deadline:
                raise RuntimeError(f"only {Worker.count(queue=queue)} of {n} workers started")
            time.sleep(0.2)
        started = time.perf_counter()
        queued = [queue.enqueue("jobs.dispatch.send_now", job_timeout=7200)
                  for _ in range(jobs)]
        while True:
            states = [job.get_status(refresh=True) for job in queued]
            if "failed" in states:
                raise RuntimeError("a send job failed; see perf-results/scale-worker*.log")
            if all(state == "finished" for state in states):
                break
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
    with harness.connect() as db:
        sent = db.execute("SELECT count(*) FROM fulfillment WHERE status = 'pending'"
                          ).fetchone()[0]
    if sent != count:
        raise RuntimeError(f"{n} worker(s) sent {sent} of {count}")
    return elapsed


def _fresh(bases: list[str], count: int) -> None:
    harness.fresh_database()
    with harness.connect() as conn:
        accounts = [harness.add_account(conn, "shipstation", f"Scale {i}", {
            "api_key": "ss-api-key", "api_secret": "ss-api-secret", "store_id": "310001",
            "base_url": base}) for i, base in enumerate(bases)]
        harness.load_fulfillments(conn, accounts, count, status="hold")
    for base in set(bases):
        requests.post(f"{base}/_control/reset", timeout=10)


def _created_once(bases: list[str], count: int) -> bool:
    created = [v for base in set(bases)
               for v in requests.get(f"{base}/_control/creations", timeout=60).json().values()]
    return len(created) == count and set(created) == {1}


def bench_scale(result, quick: bool) -> None:
    (harness.ROOT / "perf-results").mkdir(exist_ok=True)
    accounts = 4
    count = 10_000 if quick else 100_000
    with ExitStack() as stack:
        ports = [harness.free_port() for _ in range(accounts)]
        for port in ports:
            stack.enter_context(harness.process(
                "-m", "simulators.shipstation", "--port", str(port), "--no-rate-limit",
                "--latency", LATENCY, port_wait=port))
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        rates = {}
        for n in WORKERS:
            _fresh(bases, count)
            # a claim holds one house batch (100) per account
            elapsed = _dispatch_with(n, n, count, DISPATCH_CHUNK=str(100 * accounts))
            rates[n] = count / elapsed
            target = {1: "", 2: "×≥1.7", 4: "×≥3"}[n]
            result("scale", f"orders/s, {n} worker(s), {accounts} accounts", round(rates[n]),
                   round(rates[1]) if n > 1 else None, "orders/s", target,
                   None if n == 1 else rates[n] / rates[1] >= {2: 1.7, 4: 3}[n],
                   note=f"{count:,} held orders, houses answer in 150 ms")
            once = _created_once(bases, count)
            result("scale", f"created once each, {n} worker(s)", "yes" if once else "NO",
                   target="every order once", ok=once)
    count = 10_000 if quick else 30_000
    port = harness.free_port()
    with harness.process("-m", "simulators.shipstation", "--port", str(port), "--latency",
                         LATENCY, port_wait=port):
        base = f"http://127.0.0.1:{port}"
        requests.post(f"{base}/_control/rate-limit", json={"enabled": True, "limit": LIMIT,
                                                          "window": WINDOW}, timeout=10)
        for n in WORKERS:
            _fresh([base], count)
            elapsed = _dispatch_with(n, n, count, DISPATCH_CHUNK="500")
            stats = requests.get(f"{base}/_control/stats", timeout=10).json()
            used = stats["allowed"] / (LIMIT * elapsed / WINDOW)
            windows = elapsed / WINDOW
            result("scale", f"allowance used, {n} worker(s), one account",
                   round(100 * used, 1), unit="%", target="≥ 95 %" if n > 1 else "",
                   ok=used >= 0.95 if n > 1 else None,
                   note=f"{stats['allowed']} calls in {elapsed:.0f} s, {LIMIT}/{WINDOW} s")
            result("scale", f"429 answers, {n} worker(s), one account", stats["refused_429"],
                   target=f"only at edges (≤ {windows:.0f})",
                   ok=stats["refused_429"] <= windows)
            once = _created_once([base], count)
            result("scale", f"created once each, {n} worker(s), one account",
                   "yes" if once else "NO", target="every order once", ok=once)
