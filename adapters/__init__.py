"""The registry of fulfillment houses and carriers, keyed by a stable key.

A key is stored on every account, so it never changes once released. An unknown key
raises ``UnknownAdapter``: a missing adapter is an error, never a silent ``None``.
"""
from __future__ import annotations

from adapters.base import CarrierTracker, HouseAdapter, PullHouse, WebhookSpec
from adapters.carriers import DHLExpressTracker, FedExTracker, UPSTracker, USPSTracker
from adapters.pull import ShipMonkPullHouse, ShipWorksHouse
from adapters.sandbox import SandboxCarrier, SandboxHouse
from adapters.shipbob import ShipBobHouse
from adapters.shipmonk import ShipMonkHouse
from adapters.shipstation import ShipStationHouse

HouseClass = type[HouseAdapter] | type[PullHouse]


class UnknownAdapter(KeyError):
    """No adapter is registered under this key."""


def _by_key(*classes):
    return {cls.key: cls for cls in classes}


#: every house the product supports, in the order the listing shows them
HOUSES: dict[str, HouseClass] = _by_key(ShipStationHouse, ShipBobHouse, ShipMonkHouse, SandboxHouse,
                                        ShipWorksHouse, ShipMonkPullHouse)

#: every carrier whose tracking API we read
CARRIERS: dict[str, type[CarrierTracker]] = _by_key(USPSTracker, UPSTracker, FedExTracker,
                                                    DHLExpressTracker, SandboxCarrier)


def get_house(key: str) -> HouseClass:
    try:
        return HOUSES[key]
    except KeyError:
        raise UnknownAdapter(f"No fulfillment house adapter is registered as {key!r}.") from None


def get_carrier(key: str) -> type[CarrierTracker]:
    try:
        return CARRIERS[key]
    except KeyError:
        raise UnknownAdapter(f"No carrier tracker is registered as {key!r}.") from None


def push_houses() -> dict[str, HouseClass]:
    """The houses we send orders to (``mode == "push"``), by key."""
    return {key: cls for key, cls in HOUSES.items() if cls.mode == "push"}


def pull_houses() -> dict[str, HouseClass]:
    """The houses that fetch orders from our API (``mode == "pull"``), by key."""
    return {key: cls for key, cls in HOUSES.items() if cls.mode == "pull"}


def by_webhook(kind: str) -> dict[str, HouseClass]:
    """The houses that post to the webhook route ``kind``, by key (none: no such route)."""
    return {key: cls for key, cls in HOUSES.items() if cls.webhook and cls.webhook.kind == kind}


def webhook_specs() -> dict[str, WebhookSpec]:
    """Every declared webhook route, by its kind."""
    return {cls.webhook.kind: cls.webhook for cls in HOUSES.values() if cls.webhook}
