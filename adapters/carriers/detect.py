"""Which carrier carries a package: from the house's carrier code when it names one we track,
else from the tracking number's own format and check digit.

Houses name carriers their own way: ShipStation by carrier code (``stamps_com``, ``endicia``,
``ups_walleted``, ``dhl_express_worldwide`` ...), ShipBob by display name ("USPS", "FedEx",
"DHL Express" ...). A name we do not map ("DHLGM", "OnTrac", "Amazon") falls through to the
number: DHL eCommerce (DHLGM) parcels end with USPS, and their numbers say so.
"""
from __future__ import annotations

import re
from urllib.parse import quote

from tracking_numbers import get_tracking_number

#: house carrier codes and names, normalised by ``_normal_hint``, to our carrier keys
HINTS: dict[str, str] = {
    # USPS and the postage resellers that print USPS labels
    "usps": "usps",
    "stamps_com": "usps",
    "endicia": "usps",
    "united_states_postal_service": "usps",
    "ups": "ups",
    "ups_walleted": "ups",
    "fedex": "fedex",
    "fedex_walleted": "fedex",
    "fedex_smartpost": "fedex",
    "fedex_ground": "fedex",
    "dhl_express": "dhl_express",
    "dhl_express_worldwide": "dhl_express",
    "dhl_express_walleted": "dhl_express",
}

#: tracking-numbers couriers to our carrier keys; its DHL products are all DHL Express
COURIERS: dict[str, str] = {
    "usps": "usps",
    "ups": "ups",
    "fedex": "fedex",
    "dhl": "dhl_express",
}

TRACKING_URLS: dict[str, str] = {
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "ups": "https://www.ups.com/track?loc=en_US&tracknum={}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={}",
    "dhl_express": "https://www.dhl.com/us-en/home/tracking/tracking-express.html"
                   "?submit=1&tracking-id={}",
}


def _normal_hint(hint: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", hint.lower()).strip("_")


def detect_carrier(tracking_number: str, hint: str = "") -> str | None:
    """Our carrier key for a package, or None when no carrier we track claims it.

    ``hint`` is the house's carrier code or name and wins when we know it. Otherwise the
    number decides, and only with a valid check digit; a UPU S10 number ending in ``US``
    (international mail) belongs to USPS.
    """
    known = HINTS.get(_normal_hint(hint))
    if known:
        return known
    number = "".join(tracking_number.split()).upper()
    found = get_tracking_number(number) if number else None
    if found is None:
        return None
    if found.courier.code == "s10":
        return "usps" if number.endswith("US") else None
    return COURIERS.get(found.courier.code)


def tracking_url(carrier_key: str, number: str) -> str | None:
    """The carrier's public tracking page for ``number``; None for a carrier we do not know."""
    template = TRACKING_URLS.get(carrier_key)
    return template.format(quote("".join(number.split()), safe="")) if template else None
