"""UPS tracking through karrio: OAuth client credentials, then one GET per number
(``/api/track/v1/details/{number}``)."""
from __future__ import annotations

from karrio.mappers.ups.settings import Settings as UPSSettings

from adapters.base import CredentialField, FieldKind, base_url_field
from adapters.carriers.common import KarrioTracker, with_base_url


class UPSTracker(KarrioTracker):
    key = "ups"
    name = "UPS"
    karrio_carrier = "ups"
    settings_class = with_base_url(UPSSettings)
    probe_number = "1Z999AA10123456784"
    #: the Track API takes one inquiry number per request
    batch_size = 1
    fields = (
        CredentialField("client_id", "Client ID",
                        help="From your app on developer.ups.com, with the Tracking product "
                             "added."),
        CredentialField("client_secret", "Client Secret", kind=FieldKind.SECRET,
                        help="The secret shown next to the client ID of the same app."),
        base_url_field("https://onlinetools.ups.com"),
    )
    #: TW0001 "Tracking Information Not Found"; TV1002 "Invalid inquiry number"
    not_found_codes = frozenset({"TW0001", "TV1002"})
    #: 250002 invalid or expired token, 250003 invalid access license, 1040x refused client
    auth_codes = frozenset({"250002", "250003", "10400", "10401"})

    def karrio_settings(self) -> dict[str, str]:
        return {"client_id": self.credentials.get("client_id", ""),
                "client_secret": self.credentials.get("client_secret", "")}
