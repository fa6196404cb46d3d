"""Helpers for running real worker processes against the test's database and Redis."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from testkit import TEST_KEYS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker_env(app, tmp_path):
    """Environment that makes a child process build the same app as the test's."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "INSTANCE_DIR": app.config["INSTANCE_DIR"],
        **TEST_KEYS, "ALLOW_CUSTOM_BASE_URLS": "1",
        "SANDBOX_HOUSE_PATH": os.environ["SANDBOX_HOUSE_PATH"],
        "FLASK_APP": "wsgi", "TZ": "UTC", "PYTHONPATH": str(ROOT),
    })
    return env


@pytest.fixture
def spawn(worker_env):
    """Start ``python args...`` in the project root with the test's environment."""
    procs = []

    def start(*args, **kw):
        proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=worker_env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                **kw)
        procs.append(proc)
        return proc
    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
