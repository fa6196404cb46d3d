"""USPS tracking through karrio: an OAuth token (``/oauth2/v3/token``), then one GET per number
(``/tracking/v3/tracking/{number}``).

karrio reads USPS's free-text status by keyword and falls back to "in transit", which would
report a label that USPS has not yet scanned as moving, a return as delivered (USPS calls it
"Delivered, To Original Sender") and an alert as in transit; ``carrier_status`` reads those
from the latest event first.
"""
from __future__ import annotations

from karrio.core.models import TrackingDetails
from karrio.mappers.usps.settings import Settings as USPSSettings

from adapters.base import CarrierStatus, CredentialField, FieldKind, base_url_field
from adapters.carriers.common import KarrioTracker, with_base_url

#: USPS event codes for a label whose item USPS has not received yet
PRE_TRANSIT_EVENTS = frozenset({"GX", "MA"})
RETURNED_WORDS = ("return to sender", "returned to sender", "to original sender")
#: wording of USPS "Alert" events: delivery stopped until someone acts
ALERT_WORDS = ("no access", "refused", "undeliverable", "insufficient address",
               "addressee unknown", "no such number", "vacant", "moved, left no address",
               "receptacle full", "receptacle blocked")


class USPSTracker(KarrioTracker):
    key = "usps"
    name = "USPS"
    karrio_carrier = "usps"
    settings_class = with_base_url(USPSSettings)
    probe_number = "9400100000000000000000"
    #: karrio asks the v3 tracking API one number per request
    batch_size = 1
    fields = (
        CredentialField("client_id", "Consumer Key",
                        help="From your app on developer.usps.com."),
        CredentialField("client_secret", "Consumer Secret", kind=FieldKind.SECRET,
                        help="The secret shown next to the consumer key of the same app."),
        base_url_field("https://apis.usps.com"),
    )
    not_found_codes = frozenset({"404"})
    auth_codes = frozenset({"401", "invalid_client", "invalid_token"})

    def karrio_settings(self) -> dict[str, str]:
        return {"client_id": self.credentials.get("client_id", ""),
                "client_secret": self.credentials.get("client_secret", "")}

    def carrier_status(self, detail: TrackingDetails) -> CarrierStatus | None:
        if not detail.events:
            return None
        latest = detail.events[0]
        text = (latest.description or "").lower()
        if any(word in text for word in RETURNED_WORDS):
            return CarrierStatus.RETURNED
        if any(word in text for word in ALERT_WORDS):
            return CarrierStatus.EXCEPTION
        if latest.code in PRE_TRANSIT_EVENTS:
            return CarrierStatus.PRE_TRANSIT
        return None
