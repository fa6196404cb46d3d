"""Carrier checks through the whole job path: a Pending Shipment record whose package travels
with a carrier, a carrier account pointing at that carrier's simulator, ``check_carriers``."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from simulators.carriers import (
    CarrierSimulator,
    DHLExpressSimulator,
    FedExSimulator,
    UPSSimulator,
    USPSSimulator,
)


@dataclass(frozen=True)
class Carrier:
    key: str
    name: str
    simulator: type[CarrierSimulator]
    #: a valid number of this carrier, and another one
    number: str
    other: str
    #: the field holding the account's secret
    secret: str = "client_secret"


CARRIERS = [
    Carrier("usps", "USPS", USPSSimulator, "9400109104250532908587", "9205590164917312751089"),
    Carrier("ups", "UPS", UPSSimulator, "1Z999AA10123456784", "1ZXF38300382722839"),
    Carrier("fedex", "FedEx", FedExSimulator, "399368623212", "568838414941"),
    Carrier("dhl_express", "DHL Express", DHLExpressSimulator, "3318810025", "1815115363",
            secret="password"),
]
BY_KEY = {c.key: c for c in CARRIERS}


@dataclass
class Running:
    """A carrier's simulator, serving while the test runs."""

    carrier: Carrier
    sim: CarrierSimulator


@pytest.fixture(params=CARRIERS, ids=lambda c: c.key)
def running(request, clock):
    carrier = request.param
    with carrier.simulator(now=clock.at) as sim:
        yield Running(carrier, sim)


@pytest.fixture
def simulator(clock):
    """Start the simulator of one carrier by key; stopped at the end of the test."""
    started = []

    def start(key: str) -> CarrierSimulator:
        sim = BY_KEY[key].simulator(now=clock.at)
        sim.start()
        started.append(sim)
        return sim
    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
def carrier_account(app):
    """Store a carrier account whose base URL is ``sim``'s; returns its id."""
    from dashboard import credentials
    from dashboard.extensions import db
    from dashboard.models import CarrierAccount

    def make(key: str, sim: CarrierSimulator, *, active: bool = True, **overrides) -> int:
        values = {**sim.credentials, "base_url": sim.url, **overrides}
        with app.app_context():
            account = CarrierAccount(carrier_key=key, title=f"{key} main", active=active,
                                     credentials_encrypted=credentials.encrypt(values))
            db.session.add(account)
            db.session.commit()
            return account.id
    return make


@pytest.fixture
def house(sandbox_account, product):
    """A Sandbox house account with one product on it; returns the product id."""
    return product("TRACK-1", account_id=sandbox_account())


@pytest.fixture
def shipped(app, house, place, clock):
    """An order whose fulfillment the house shipped in the given packages: it is in Pending
    Shipment with one shipment per package, as the house check leaves it. Returns its id."""
    from adapters.base import Package, TrackingInfo
    from dashboard.extensions import db
    from dashboard.services.tracking import record_packages

    def make(*packages: Package) -> int:
        _, [fid] = place([(house, 1)])
        with app.app_context():
            from dashboard.models import Fulfillment
            reference = db.session.get(Fulfillment, fid).reference
            result = record_packages({fid: TrackingInfo(reference, "H-1", packages)},
                                     source="tracking", actor="test", at=clock.at)
            assert result.moved == [fid]
            db.session.commit()
        return fid
    return make


@pytest.fixture
def check(app):
    """Run the carrier check as the tracking job does; returns its summary."""
    def run():
        from dashboard.services.tracking import check_carriers
        with app.app_context():
            return check_carriers()
    return run


@dataclass
class Seen:
    status: str
    carrier_exception: str
    tracking_stale: bool
    shipments: list
    events: list


@pytest.fixture
def seen(app):
    """What a fulfillment looks like now: status, flags, shipments, applied timeline."""
    def look(fid: int) -> Seen:
        from dashboard.extensions import db
        from dashboard.models import Fulfillment
        with app.app_context():
            f = db.session.get(Fulfillment, fid)
            return Seen(f.status, f.carrier_exception, f.tracking_stale,
                        [{c: getattr(s, c) for c in ("tracking_number", "carrier",
                                                      "carrier_status", "carrier_detail",
                                                      "status_source", "done", "delivered_at",
                                                      "next_check_at", "checks")}
                         for s in f.shipments],
                        [(e.from_status, e.to_status, e.source, e.detail, e.applied)
                         for e in f.events])
    return look


@pytest.fixture
def account_row(app):
    def read(account_id: int):
        from dashboard.extensions import db
        from dashboard.models import CarrierAccount
        with app.app_context():
            return db.session.get(CarrierAccount, account_id)
    return read
