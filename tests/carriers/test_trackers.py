"""The karrio-backed trackers against carrier simulators over real HTTP on 127.0.0.1."""
from dataclasses import dataclass

import pytest

from adapters.base import AdapterError, CarrierStatus, FailureReason, FieldKind
from adapters.carriers import DHLExpressTracker, FedExTracker, UPSTracker, USPSTracker
from adapters.carriers.common import KarrioTracker
from simulators.carriers import (
    JOURNEYS,
    CarrierSimulator,
    DHLExpressSimulator,
    FedExSimulator,
    UPSSimulator,
    USPSSimulator,
)


@dataclass(frozen=True)
class Carrier:
    tracker: type[KarrioTracker]
    simulator: type[CarrierSimulator]
    number: str
    other: str


CARRIERS = [
    Carrier(UPSTracker, UPSSimulator, "1Z999AA10123456784", "1ZXF38300382722839"),
    Carrier(FedExTracker, FedExSimulator, "399368623212", "568838414941"),
    Carrier(USPSTracker, USPSSimulator, "9400109104250532908587", "9205590164917312751089"),
    Carrier(DHLExpressTracker, DHLExpressSimulator, "3318810025", "1815115363"),
]
TOKEN_CARRIERS = [c for c in CARRIERS if c.tracker.uses_token]


@dataclass
class Running:
    carrier: Carrier
    sim: CarrierSimulator

    def tracker(self, **credentials) -> KarrioTracker:
        return self.carrier.tracker({**self.sim.credentials, **credentials}, self.sim.url)


def _run(request):
    carrier = request.param
    with carrier.simulator() as sim:
        yield Running(carrier, sim)


@pytest.fixture(params=CARRIERS, ids=lambda c: c.tracker.key)
def running(request):
    yield from _run(request)


@pytest.fixture(params=TOKEN_CARRIERS, ids=lambda c: c.tracker.key)
def running_with_tokens(request):
    yield from _run(request)


@pytest.mark.parametrize(("journey", "expected"), [
    ("in_transit", CarrierStatus.IN_TRANSIT),
    ("out_for_delivery", CarrierStatus.IN_TRANSIT),
    ("delivered", CarrierStatus.DELIVERED),
    ("returned", CarrierStatus.RETURNED),
    ("exception", CarrierStatus.EXCEPTION),
])
def test_status_of_a_registered_number(running, journey, expected):
    """What status, wording and time does the tracker report at each point of a journey?"""
    number = running.carrier.number
    running.sim.register(number, journey)

    [event] = running.tracker().track([number])

    wording = running.sim.steps[JOURNEYS[journey][0]]
    assert event.tracking_number == number
    assert event.status is expected
    assert event.description and event.description in wording
    assert event.occurred_at == running.sim.now


@pytest.mark.parametrize("carrier", [c for c in CARRIERS if c.tracker is not DHLExpressTracker],
                         ids=lambda c: c.tracker.key)
def test_label_without_a_scan_is_pre_transit(carrier):
    """Is a label the carrier has not scanned yet reported as pre-transit, not moving?"""
    with carrier.simulator() as sim:
        sim.register(carrier.number, "pre_transit")
        [event] = carrier.tracker(sim.credentials, sim.url).track([carrier.number])
    assert event.status is CarrierStatus.PRE_TRANSIT


def test_unknown_number(running):
    """Does a number the carrier has never seen come back unknown, with the carrier's words?"""
    [event] = running.tracker().track([running.carrier.other])

    assert event.status is CarrierStatus.UNKNOWN
    assert "found" in event.description.lower()
    assert event.occurred_at is None


def test_known_and_unknown_numbers_together_keep_their_order(running):
    """With one known and one unknown number, is each answered in the order asked, in as
    few requests as the carrier allows?"""
    carrier = running.carrier
    running.sim.register(carrier.number, "delivered")

    events = running.tracker().track([carrier.other, carrier.number])

    assert [(e.tracking_number, e.status) for e in events] == [
        (carrier.other, CarrierStatus.UNKNOWN), (carrier.number, CarrierStatus.DELIVERED)]
    if carrier.tracker.batch_size > 1:
        assert running.sim.tracking_calls == [(carrier.other, carrier.number)]
    else:
        assert sorted(running.sim.tracking_calls) == sorted([(carrier.other,), (carrier.number,)])


def test_fedex_asks_30_numbers_per_request():
    """Are 31 FedEx numbers sent as one request of 30 and one of 1?"""
    numbers = [f"7{i:011d}" for i in range(31)]
    with FedExSimulator() as sim:
        events = FedExTracker(sim.credentials, sim.url).track(numbers)
    assert [len(call) for call in sim.tracking_calls] == [30, 1]
    assert [e.tracking_number for e in events] == numbers


def test_base_url_may_come_from_the_advanced_field(running):
    """Is the base URL taken from the account's advanced setting when none is passed?"""
    running.sim.register(running.carrier.number, "delivered")
    tracker = running.carrier.tracker({**running.sim.credentials, "base_url": running.sim.url})

    [event] = tracker.track([running.carrier.number])

    assert event.status is CarrierStatus.DELIVERED


def test_token_is_reused_across_trackers(running_with_tokens):
    """Does a tracker built for the next check reuse the token the last one fetched?"""
    running = running_with_tokens
    running.sim.register(running.carrier.number, "in_transit")

    running.tracker().track([running.carrier.number])
    running.tracker().track([running.carrier.number])

    assert running.sim.token_requests == 1


def test_expired_token_is_refreshed(running_with_tokens):
    """When the carrier drops a token early, is a new one fetched and the call repeated?"""
    running = running_with_tokens
    number = running.carrier.number
    running.sim.register(number, "in_transit")
    running.tracker().track([number])
    running.sim.expire_tokens()
    running.sim.register(number, "delivered")

    [event] = running.tracker().track([number])

    assert event.status is CarrierStatus.DELIVERED
    assert running.sim.token_requests == 2
    assert running.sim.tracking_calls == [(number,)] * 3


def test_refused_credentials_are_not_transient(running):
    """Is a wrong secret reported as a credentials problem that retrying will not fix?"""
    secret = "password" if running.carrier.tracker is DHLExpressTracker else "client_secret"

    with pytest.raises(AdapterError) as raised:
        running.tracker(**{secret: "wrong-secret-value"}).track([running.carrier.number])

    assert raised.value.transient is False
    assert raised.value.reason is FailureReason.CREDENTIALS
    assert running.carrier.tracker.name in str(raised.value)


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "token-cached"])
def test_carrier_down_is_transient(running, warm):
    """Does a carrier answering 503 raise a transient error, before and after a token?"""
    number = running.carrier.number
    running.sim.register(number, "in_transit")
    if warm:
        running.tracker().track([number])
    running.sim.down = True

    with pytest.raises(AdapterError) as raised:
        running.tracker().track([number])

    assert raised.value.transient is True
    assert running.carrier.tracker.name in str(raised.value)


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "token-cached"])
@pytest.mark.parametrize("carrier", CARRIERS, ids=lambda c: c.tracker.key)
def test_unreachable_carrier_is_transient(carrier, warm):
    """Does a refused connection raise a transient error rather than a wrong status?"""
    with carrier.simulator() as sim:
        url, credentials = sim.url, sim.credentials
        sim.register(carrier.number, "in_transit")
        if warm:
            carrier.tracker(credentials, url).track([carrier.number])

    with pytest.raises(AdapterError) as raised:
        carrier.tracker(credentials, url).track([carrier.number])

    assert raised.value.transient is True
    assert carrier.tracker.name in str(raised.value)


@pytest.mark.parametrize("carrier", CARRIERS, ids=lambda c: c.tracker.key)
def test_declared_fields(carrier):
    """Are the secrets masked and the base URL an optional advanced setting?"""
    fields = {f.name: f for f in carrier.tracker.fields}
    secret = "password" if carrier.tracker is DHLExpressTracker else "client_secret"
    assert fields[secret].kind is FieldKind.SECRET
    assert fields["base_url"].advanced and not fields["base_url"].required
    assert fields["base_url"].check("ftp://example.com") is not None
