"""Helpers the house tests share: simulator handles, sent orders, and reading back what a
call changed."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy import func, select

from simulators import shipbob, shipmonk, shipstation

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
}
MODULES = {"shipstation": shipstation, "shipbob": shipbob, "shipmonk": shipmonk}
API_PATHS = {"shipstation": "", "shipbob": "", "shipmonk": ""}


@dataclass
class Simulator:
    key: str
    root: str
    app: Any

    @property
    def api_url(self) -> str:
        return self.root + API_PATHS[self.key]

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
