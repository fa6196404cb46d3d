"""FedEx tracking through karrio: an OAuth token for the Track API project, then one POST to
``/track/v1/trackingnumbers`` for up to 30 numbers."""
from __future__ import annotations

from karrio.mappers.fedex.settings import Settings as FedExSettings

from adapters.base import CredentialField, FieldKind, base_url_field
from adapters.carriers.common import KarrioTracker, with_base_url


class FedExTracker(KarrioTracker):
    key = "fedex"
    name = "FedEx"
    karrio_carrier = "fedex"
    settings_class = with_base_url(FedExSettings)
    probe_number = "123456789012"
    #: FedEx's documented limit of tracking numbers per request
    batch_size = 30
    fields = (
        CredentialField("client_id", "Track API key",
                        help="The API key of a developer.fedex.com project with the Track API."),
        CredentialField("client_secret", "Track API secret key", kind=FieldKind.SECRET,
                        help="The secret key of the same Track API project."),
        base_url_field("https://apis.fedex.com"),
    )
    not_found_codes = frozenset({"TRACKING.TRACKINGNUMBER.NOTFOUND",
                                 "TRACKING.TRACKINGNUMBER.INVALID"})
    #: FedEx answers both a refused client and an expired token with this code
    auth_codes = frozenset({"NOT.AUTHORIZED.ERROR"})

    def karrio_settings(self) -> dict[str, str]:
        return {"track_api_key": self.credentials.get("client_id", ""),
                "track_secret_key": self.credentials.get("client_secret", "")}
