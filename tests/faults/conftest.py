"""The fault suite's fixtures: a ShipStation simulator over real HTTP, an account pointed
at it, held fulfillments in bulk, child processes that build the test's app, and the table
of figures printed at the end of the run (and written to test-artifacts/faults.json)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from faults.figures import FIGURES
from testkit import TEST_KEYS

ROOT = Path(__file__).resolve().parents[2]
#: fulfillments per crash or house-fault run
RUN_SIZE = int(os.environ.get("FAULTS_RUN_SIZE") or 10_000)
def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    columns = ["fault", "what was done", "records", "lost", "duplicated", "failed",
               "5xx", "refused"]
    rows = [[str(row.get(c, "")) for c in columns] for row in FIGURES]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    terminalreporter.section("fault suite figures")
    line = " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    terminalreporter.write_line(line)
    terminalreporter.write_line("-" * len(line))
    for r in rows:
        terminalreporter.write_line(" | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))
    out = ROOT / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / "faults.json").write_text(json.dumps(FIGURES, indent=2))


@pytest.fixture
def shipstation(app):
    """A ShipStation simulator (rate limit off) and an account of ours pointed at it."""
    from dashboard import credentials
    from dashboard.extensions import db
    from dashboard.models import HouseAccount
    from simulators.common import serve
    from simulators.shipstation import create_app
    sim = create_app(rate_limited=False, products={"WIDGET-1": 10**9})
    base_url, stop = serve(sim)
    with app.app_context():
        account = HouseAccount(adapter_key="shipstation", title="ShipStation (simulated)",
                               credentials_encrypted=credentials.encrypt({
                                   "api_key": "ss-api-key", "api_secret": "ss-api-secret",
                                   "store_id": "310001", "base_url": base_url}))
        db.session.add(account)
        db.session.commit()
        account_id = account.id

    class House:
        url = base_url
        state = sim.extensions["house"]
        account = account_id
    yield House
    stop()


@pytest.fixture
def child_env(app):
    """Environment that makes a child process build the same app as the test (same
    database, Redis and keys), read when the child starts."""
    def env(extra=None):
        return {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                "REDIS_URL": app.config["REDIS_URL"], "INSTANCE_DIR": app.config["INSTANCE_DIR"],
                **TEST_KEYS, "FLASK_APP": "wsgi", "TZ": "UTC",
                "ALLOW_CUSTOM_BASE_URLS": "1",
                "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}", **(extra or {})}
    return env


@pytest.fixture
def child(child_env):
    """Run ``python args...`` to completion in the test's environment."""
    def run(*args, timeout=300, extra_env=None):
        return subprocess.run([sys.executable, *args], cwd=ROOT, env=child_env(extra_env),
                              capture_output=True, text=True, timeout=timeout)
    return run


@pytest.fixture
def background(child_env):
    """Start long-running children (workers, schedulers); all are killed at the end."""
    procs = []

    def start(*args):
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=child_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        return proc
    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
