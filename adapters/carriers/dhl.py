"""DHL Express tracking through karrio: one XML ``KnownTrackingRequest`` to
``/XMLShippingServlet`` for up to 10 waybills, authenticated by site ID and password in the
request itself (no token)."""
from __future__ import annotations

from karrio.core.models import TrackingDetails
from karrio.mappers.dhl_express.settings import Settings as DHLSettings

from adapters.base import CarrierStatus, CredentialField, FieldKind, base_url_field
from adapters.carriers.common import KarrioTracker, with_base_url


class DHLExpressTracker(KarrioTracker):
    key = "dhl_express"
    name = "DHL Express"
    karrio_carrier = "dhl_express"
    settings_class = with_base_url(DHLSettings)
    uses_token = False
    probe_number = "1234567890"
    #: waybills per KnownTrackingRequest
    batch_size = 10
    fields = (
        CredentialField("site_id", "Site ID",
                        help="The XML Services site ID DHL Express issued to your account."),
        CredentialField("password", "Password", kind=FieldKind.SECRET,
                        help="The XML Services password that goes with the site ID."),
        base_url_field("https://xmlpi-ea.dhl.com"),
    )
    #: "No Shipments Found for AWBNumber ..." (DHL has answered with each of these codes)
    not_found_codes = frozenset({"101", "103", "209"})
    auth_codes = frozenset({"100"})

    def karrio_settings(self) -> dict[str, str]:
        return {"site_id": self.credentials.get("site_id", ""),
                "password": self.credentials.get("password", "")}

    def carrier_status(self, detail: TrackingDetails) -> CarrierStatus | None:
        """karrio files DHL's RT ("returned to shipper") under delivery failures."""
        if detail.events and detail.events[0].code == "RT":
            return CarrierStatus.RETURNED
        return None
