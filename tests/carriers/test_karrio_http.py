"""The karrio patch (``adapters.carriers.karrio_http``) against carrier simulators over real
HTTP: every request gets the timeout of the tracker that sent it, also when two trackers call
one server at once and when karrio sends from its own worker threads; a request no tracker
announced still gets a timeout."""
from __future__ import annotations

import threading
import time

import karrio.lib as karrio_lib
import pytest

from adapters.base import AdapterError, CarrierStatus
from adapters.carriers import FedExTracker, UPSTracker, karrio_http
from simulators.carriers import FedExSimulator, UPSSimulator

FEDEX = "399368623212"
UPS = ["1Z999AA10123456784", "1ZXF38300382722839", "1Z879E930346834440"]


def _outcome(tracker, numbers, results, name):
    try:
        results[name] = tracker.track(numbers)[0].status
    except AdapterError as exc:
        results[name] = str(exc)


def test_do_two_trackers_on_one_server_each_keep_their_own_timeout():
    """A patient and a hasty tracker ask one slow server at the same time: the hasty one gives
    up, the patient one gets its answer (a timeout kept per server would give both the
    first one's)."""
    with FedExSimulator() as sim:
        sim.register(FEDEX, "delivered")
        sim.delay = 0.8
        results: dict[str, object] = {}
        patient = threading.Thread(target=_outcome, args=(
            FedExTracker(sim.credentials, sim.url, timeout=10.0), [FEDEX], results, "patient"))
        hasty = threading.Thread(target=_outcome, args=(
            FedExTracker(sim.credentials, sim.url, timeout=0.3), [FEDEX], results, "hasty"))
        patient.start()
        time.sleep(0.1)
        hasty.start()
        hasty.join(5)
        patient.join(10)
        sim.delay = 0
    assert results["patient"] == CarrierStatus.DELIVERED
    assert "did not answer within 0.3 s" in str(results["hasty"])


def test_do_requests_karrio_sends_from_its_own_threads_get_the_timeout():
    """UPS tracking asks about each number from a karrio worker thread: a hanging server is
    given up on after the tracker's timeout, not karrio's (none) or the default."""
    with UPSSimulator() as sim:
        for number in UPS:
            sim.register(number, "delivered")
        UPSTracker(sim.credentials, sim.url).track(UPS[:1])  # the token, fetched while quick
        sim.delay = 2.0
        started = time.monotonic()
        with pytest.raises(AdapterError, match="did not answer within 0.3 s"):
            UPSTracker(sim.credentials, sim.url, timeout=0.3).track(UPS)
        took = time.monotonic() - started
        sim.delay = 0
    assert took < 1.5


def test_does_a_request_no_tracker_announced_get_the_default_timeout(monkeypatch):
    monkeypatch.setattr(karrio_http, "DEFAULT_TIMEOUT", 0.3)
    failures: list[BaseException] = []

    def call(url):
        try:
            karrio_lib.request(url=url, method="GET")
        except OSError as exc:
            failures.append(exc)

    with FedExSimulator() as sim:
        sim.delay = 1.5
        thread = threading.Thread(target=call, args=(sim.url + "/track/v1/trackingnumbers",))
        started = time.monotonic()
        thread.start()
        thread.join(5)
        took = time.monotonic() - started
        sim.delay = 0
    assert took < 1.2 and len(failures) == 1
