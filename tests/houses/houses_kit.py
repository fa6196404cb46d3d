"""Helpers the house tests share: simulator handles, sent orders, and reading back what a
call changed."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy import func, select

from simulators import amazon_mcf, shipbob, shipmonk, shipstation

#: credentials each simulator accepts by default, as the account form stores them
CREDENTIALS = {
    "shipstation": {"api_key": "ss-api-key", "api_secret": "ss-api-secret",
                    "store_id": "310001"},
    "shipbob": {"token": "sb-personal-access-token", "channel_id": "401",
                "api_version": "2026-01",
                "webhook_secrets": "whsec_c2hpcGJvYi1vbGQtc2VjcmV0LWtleQ== "
                                   "whsec_c2hpcGJvYi1uZXctc2VjcmV0LWtleQ=="},
    "shipmonk": {"api_key": "sm-api-key", "store_id": "7001", "webhook_username": "crm-hooks",
                 "webhook_password": "monk-hooks-password-123"},
    # plus "token_url": the simulator's root + "/auth/o2/token" (``Simulator.token_url``)
    "amazon_mcf": {"client_id": "amzn1.application-oa2-client.crm",
                   "client_secret": "lwa-client-secret", "refresh_token": "Atzr|crm-refresh-token",
                   "marketplace_id": "ATVPDKIKX0DER", "shipping_speed": "Standard"},
}
MODULES = {"shipstation": shipstation, "shipbob": shipbob, "shipmonk": shipmonk,
           "amazon_mcf": amazon_mcf}
API_PATHS = {"shipstation": "", "shipbob": "", "shipmonk": "", "amazon_mcf": ""}


@dataclass
class Simulator:
    key: str
    root: str
    app: Any

    @property
    def api_url(self) -> str:
        return self.root + API_PATHS[self.key]

    @property
    def house(self):
        """The simulated house's state (orders, counters, Amazon's model violations)."""
        return self.app.extensions["house"]

    @property
    def token_url(self) -> str:
        """Login with Amazon's token endpoint, where the simulator serves one."""
        return self.root + "/auth/o2/token"

    def control(self, action: str, body: dict[str, Any] | None = None) -> Any:
        response = requests.post(f"{self.root}/_control/{action}", json=body or {}, timeout=5)
        assert response.status_code == 200, response.text
        return response.json()


@dataclass
class SentSetup:
    sim: Simulator
    account_id: int
    token: str
    fid: int
    reference: str


def fulfillment(app, fid: int):
    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    with app.app_context():
        found = db.session.get(Fulfillment, fid)
        db.session.expunge(found)
        return found


def counts(app) -> dict[str, int]:
    """Rows of the tables a webhook may write: the proof that nothing changed."""
    from dashboard.extensions import db
    from dashboard.models import FulfillmentEvent, Shipment, WebhookEvent
    with app.app_context():
        return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                for model in (FulfillmentEvent, Shipment, WebhookEvent)}


def timeline(app, fid: int) -> list:
    from dashboard.extensions import db
    from dashboard.models import FulfillmentEvent
    with app.app_context():
        return [(e.source, e.to_status, e.applied, e.detail) for e in db.session.scalars(
            select(FulfillmentEvent).where(FulfillmentEvent.fulfillment_id == fid)
            .order_by(FulfillmentEvent.id))]


def shipments(app, fid: int) -> dict[str, Any]:
    from dashboard.extensions import db
    from dashboard.models import Shipment
    with app.app_context():
        rows = db.session.scalars(select(Shipment).where(Shipment.fulfillment_id == fid)).all()
        for row in rows:
            db.session.expunge(row)
        return {row.tracking_number: row for row in rows}
