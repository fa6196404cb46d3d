"""Processes as separate hosts run them: one active scheduler and a standby, worker and
scheduler stopping promptly on SIGTERM with Redis up or gone, and the health checks."""
import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from dashboard import redis_conn as embedded

pytestmark = pytest.mark.slow


class Output:
    """The lines a child process writes, collected as they come."""

    def __init__(self, proc):
        self.proc, self.lines = proc, []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, text, seconds=90):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if any(text in line for line in self.lines):
                return True
            time.sleep(0.2)
        return False

    def count(self, text):
        return sum(text in line for line in self.lines)


def _stop(proc) -> float:
    """SIGTERM ``proc``; the seconds it took to exit."""
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    return time.monotonic() - started


@pytest.fixture
def own_redis(tmp_path, worker_env):
    """A Redis of this test's own, so that it can be stopped; child processes use it."""
    folder = tmp_path / "own-redis"
    worker_env["REDIS_URL"] = url = embedded.embedded_url(folder)
    yield url
    embedded.stop_embedded(folder)


def test_a_second_scheduler_waits_as_standby_and_takes_over(app, redis_conn, spawn):
    key = f"{app.config['RQ_QUEUE']}:scheduler-leader"
    first = Output(spawn("-m", "flask", "scheduler", "--interval", "1"))
    assert first.wait_for("this scheduler is active"), "".join(first.lines)
    second = Output(spawn("-m", "flask", "scheduler", "--interval", "1"))
    assert second.wait_for("holds the scheduler lock"), "".join(second.lines)
    assert f":{first.proc.pid}:" in redis_conn.get(key).decode()
    time.sleep(3)  # several ticks: the standby never becomes active while the lock is held
    assert second.count("this scheduler is active") == 0
    assert _stop(first.proc) <= 10
    # the lock was released on the way out: the standby takes over at its next tick
    assert second.wait_for("this scheduler is active", 10), "".join(second.lines)
    assert f":{second.proc.pid}:" in redis_conn.get(key).decode()
    assert _stop(second.proc) <= 10
    assert redis_conn.get(key) is None
    assert first.count("this scheduler is active") == 1 and first.count("standby") == 0


def test_worker_and_scheduler_stop_promptly_after_redis_is_gone(app, own_redis, spawn,
                                                                tmp_path):
    scheduler = Output(spawn("-m", "flask", "scheduler", "--interval", "1"))
    worker = Output(spawn("-m", "flask", "worker"))
    assert scheduler.wait_for("this scheduler is active") and worker.wait_for("Listening")
    embedded.stop_embedded(tmp_path / "own-redis")
    assert scheduler.wait_for("scheduler lost Redis", 20), "".join(scheduler.lines)
    assert worker.wait_for("could not connect to Redis", 20), "".join(worker.lines)
    assert _stop(scheduler.proc) <= 10, "".join(scheduler.lines)
    assert _stop(worker.proc) <= 10, "".join(worker.lines)
    assert scheduler.proc.returncode == 0


def test_readiness_names_what_does_not_answer(app, tmp_path):
    client = app.test_client()
    response = client.get("/readyz")  # no login needed
    assert response.status_code == 200
    assert response.text == "database: ok\nredis: ok\n"
    app.config["REDIS_URL"] = f"unix://{tmp_path}/nothing-listens.sock"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "redis: unreachable (ConnectionError)" in response.text
    assert "nothing-listens" not in response.text  # nothing of the setup is shown


def test_worker_health_counts_live_workers(app, spawn):
    check = spawn("-m", "flask", "worker-health")
    out, _ = check.communicate(timeout=60)
    assert check.returncode == 1 and "0 live worker(s)" in out, out
    worker = Output(spawn("-m", "flask", "worker"))
    assert worker.wait_for("Listening")
    check = spawn("-m", "flask", "worker-health", "--this-host")
    out, _ = check.communicate(timeout=60)
    assert check.returncode == 0 and "1 live worker(s)" in out, out
    check = spawn("-m", "flask", "worker-health", "--min", "2")
    out, _ = check.communicate(timeout=60)
    assert check.returncode == 1 and "at least 2 expected" in out, out


def _project_copy(root: Path, into: Path) -> Path:
    """``scripts/run``'s view of a fresh clone whose ``.venv`` is set up already: the
    code linked in, the shared virtualenv's ``activate`` and a stamp that says the
    requirements are installed."""
    project = into / "project"
    project.mkdir()
    for name in ("adapters", "dashboard", "jobs", "migrations", "simulators", "scripts",
                 "wsgi.py", "requirements.txt"):
        (project / name).symlink_to(root / name)
    venv = project / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").symlink_to(Path(sys.prefix) / "bin" / "python")
    (venv / "activate").symlink_to(Path(sys.prefix) / "bin" / "activate")
    stamp = hashlib.sha256((root / "requirements.txt").read_bytes()).hexdigest()
    (project / ".venv" / ".requirements.sha").write_text(stamp + "\n")
    return project


def test_ctrl_c_stops_scripts_run_within_10_s_after_its_redis_is_gone(tmp_path):
    root = Path(__file__).resolve().parents[2]
    project = _project_copy(root, tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in (
        "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "CREDENTIAL_KEYS", "FLASK_APP")}
    env.update(INSTANCE_DIR=str(project / "instance"), BIND=f"127.0.0.1:{port}")
    proc = subprocess.Popen(["bash", "scripts/run"], cwd=project, env=env,
                            start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    out = Output(proc)
    try:
        for line in ("Dashboard on http", "Listening on", "this scheduler is active",
                     "Booting worker"):
            assert out.wait_for(line, 240), f"no {line!r} in:\n{''.join(out.lines)}"
        family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        assert len(family) >= 5  # the script, worker, scheduler, gunicorn and its workers
        embedded.stop_embedded(project / "instance")
        assert out.wait_for("scheduler lost Redis", 45)  # its next tick, "".join(out.lines)
        started = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in its terminal does
        _gone, alive = psutil.wait_procs(family, timeout=10)
        assert not alive, (f"still running 10 s after Ctrl-C: {[p.cmdline() for p in alive]}"
                           f"\n{''.join(out.lines[-30:])}")
        assert time.monotonic() - started <= 10
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        embedded.stop_embedded(project / "instance")
