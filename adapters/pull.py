"""Pull houses: ShipWorks and ShipMonk import orders by calling our API.

They need nothing from us but an API user (Admin › API Users), so they declare no
credential fields. What each one calls, and the permissions its API user needs, is
plain data here; the dashboard's setup page reads it to tell the merchant what to give
the house.
"""
from __future__ import annotations

from typing import ClassVar

from adapters.base import PullHouse


class ApiPullHouse(PullHouse):
    """A pull house, with what its API user needs and which calls it makes."""

    #: ApiUser.PERMISSIONS granted by default when its API user is set up
    permissions: ClassVar[tuple[str, ...]] = ()
    #: "api" (the Konnektive-compatible JSON endpoints) or "shipworks" (the Generic Module)
    connection: ClassVar[str] = "api"
    #: the steps the merchant takes in the house's own software, in order
    setup_steps: ClassVar[tuple[str, ...]] = ()

    def __init__(self, credentials: dict[str, str] | None = None, base_url: str | None = None,
                 **_options):
        """Built like a push house's client, so account pages can treat accounts alike."""
        self.credentials = credentials or {}

    def check_credentials(self) -> str | None:
        """There is nothing to call: the house calls us. Say where to look instead."""
        return (f"{self.name} calls this CRM, so there is no connection to test from here. "
                "Admin › API Users shows when its API user last called.")


class ShipWorksHouse(ApiPullHouse):
    key = "shipworks"
    name = "ShipWorks"
    logo = "shipworks.svg"
    description = ("ShipWorks downloads your orders into its desktop software as a Generic "
                   "store and sends tracking numbers back when it prints labels.")
    website = "https://www.shipworks.com"
    permissions = ("fulfillment_query", "fulfillment_update")
    connection = "shipworks"
    setup_steps = (
        "In ShipWorks, open Manage Stores and click Add Store.",
        "Choose the store type Generic - Module.",
        "Enter the module URL, the username and the password shown here.",
        "ShipWorks asks us for its settings, then downloads the orders waiting for it; "
        "set an action to upload shipment details so tracking numbers come back.",
    )


class ShipMonkPullHouse(ApiPullHouse):
    key = "shipmonk_pull"
    name = "ShipMonk (order import via API)"
    description = ("ShipMonk imports your orders by calling our Konnektive-compatible Order "
                   "Query API and reports each shipment back through Update Fulfillment.")
    website = "https://www.shipmonk.com"
    logo = "shipmonk.svg"
    permissions = ("order_query", "fulfillment_query", "fulfillment_update")
    setup_steps = (
        "In ShipMonk, open Integrations and add a Konnektive store.",
        "Enter the base URL, the login ID and the password shown here.",
        "ShipMonk imports orders through Order Query or Fulfillment Query and marks them "
        "shipped through Update Fulfillment.",
    )
