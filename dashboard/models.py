"""The CRM's tables: staff users, house accounts, products, orders and fulfillments.

Times are naive UTC. Every column a list page filters or sorts on has an index, and the
composite ones match the queries that use them (status board, dispatch claim, carrier
checks, keyset pagination).
"""
from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from adapters import get_house
from adapters.clock import utcnow
from dashboard.extensions import db


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    """A person who logs into the dashboard: an admin, or support staff."""

    ROLES = ("admin", "support")

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), default="support")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: the secret both login cookies carry (see ``get_id``); a new one ends every session
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)

    def set_password(self, password: str) -> None:
        """Store a new password; every session of the old one ends."""
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        """Log this user out everywhere: cookies carrying the old token stop working."""
        self.session_token = new_session_token()

    @validates("active")
    def _deactivation_ends_sessions(self, _key, value: bool) -> bool:
        if not value:
            self.end_sessions()
        return value

    def get_id(self) -> str:
        """What the session and remember cookies hold: the id and the session token,
        so a cookie stops working when the token changes (``auth.load_user``)."""
        return f"{self.id}:{self.session_token}"

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_active(self) -> bool:  # flask-login refuses inactive users
        return self.active

    @property
    def display_name(self) -> str:
        return self.name or self.email


class HouseAccount(db.Model):
    """One activated plugin: a house, its title and its encrypted credentials."""

    id: Mapped[int] = mapped_column(primary_key=True)
    adapter_key: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(120))
    #: MultiFernet token of the JSON credentials; never rendered, never logged
    credentials_encrypted: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: send each order as soon as it is placed (the hourly sweep stays as the safety net)
    send_immediately: Mapped[bool] = mapped_column(Boolean, default=False)
    #: secret part of this account's webhook URL
    webhook_token: Mapped[str] = mapped_column(
        String(64), unique=True, default=lambda: secrets.token_urlsafe(24))
    #: a house's transient refusal pauses the whole account until then (429, outage)
    paused_until: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    @property
    def adapter_class(self):
        return get_house(self.adapter_key)


class Product(db.Model):
    """A base product of the catalogue; its house account decides where it ships from."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    shippable: Mapped[bool] = mapped_column(Boolean, default=True)
    house_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("house_account.id"), index=True)
    #: extra hours an order of this product waits in Hold before it is sent
    hold_delay_hours: Mapped[int] = mapped_column(Integer, default=0)
    #: how this product ships (a ship profile of its house account); None: the default
    ship_profile_id: Mapped[int | None] = mapped_column(ForeignKey("ship_profile.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    house_account: Mapped[HouseAccount | None] = relationship()


class Order(db.Model):
    """A customer's order and where it ships to."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80), index=True)
    phone: Mapped[str] = mapped_column(String(40), default="")
    address1: Mapped[str] = mapped_column(String(200))
    address2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(60), default="")
    postal_code: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    created_by: Mapped[str] = mapped_column(String(254), default="")

    items: Mapped[list[OrderItem]] = relationship(back_populates="order", order_by="OrderItem.id")
    fulfillments: Mapped[list[Fulfillment]] = relationship(
        back_populates="order", order_by="Fulfillment.id")

    @property
    def customer_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class OrderItem(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    name: Mapped[str] = mapped_column(String(200))
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    shippable: Mapped[bool] = mapped_column(Boolean, default=True)
    #: the fulfillment that ships this item; None when no house is assigned
    fulfillment_id: Mapped[int | None] = mapped_column(ForeignKey("fulfillment.id"), index=True)

    order: Mapped[Order] = relationship(back_populates="items")


class Fulfillment(db.Model):
    """One order's shipment from one house account, and where it stands."""

    __table_args__ = (
        Index("ix_fulfillment_status_due", "status", "due_at"),
        Index("ix_fulfillment_account_status", "house_account_id", "status"),
        Index("ix_fulfillment_status_check", "status", "next_check_at"),
        Index("ix_fulfillment_status_updated", "status", "updated_at", "id"),
        Index("ix_fulfillment_reason", "failure_reason", "status"),
        Index("ix_fulfillment_created", "created_at", "id"),
        Index("ix_fulfillment_account_updated", "house_account_id", "updated_at", "id"),
        Index("ix_fulfillment_account_created", "house_account_id", "created_at", "id"),
        Index("ix_fulfillment_stale", "tracking_stale", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: our stable reference, sent to the house as its dedupe key
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    house_account_id: Mapped[int] = mapped_column(ForeignKey("house_account.id"))
    #: one of ``dashboard.status.Status``; set by the status rules, which create every record
    status: Mapped[str] = mapped_column(String(20))
    #: earliest time dispatch may send it (hold delay, retry after a transient error)
    due_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: set while a dispatch run holds it; an old claim belongs to a dead worker
    claim_token: Mapped[str | None] = mapped_column(String(40))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: the last send may have reached the house: look it up before sending again
    outcome_unknown: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    house_reference: Mapped[str | None] = mapped_column(String(80), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    date_exported: Mapped[datetime | None] = mapped_column(DateTime)
    tracking_number: Mapped[str | None] = mapped_column(String(64), index=True)
    carrier: Mapped[str] = mapped_column(String(40), default="")
    ship_method: Mapped[str] = mapped_column(String(80), default="")
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
    returned_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: when the tracking or carrier check looks at it next
    next_check_at: Mapped[datetime | None] = mapped_column(DateTime)
    failure_reason: Mapped[str | None] = mapped_column(String(20))
    failure_message: Mapped[str] = mapped_column(Text, default="")
    #: the carrier reported a delivery problem; support looks, status unchanged
    carrier_exception: Mapped[str] = mapped_column(Text, default="")
    tracking_stale: Mapped[bool] = mapped_column(Boolean, default=False)
    is_reshipment: Mapped[bool] = mapped_column(Boolean, default=False)
    reship_of_id: Mapped[int | None] = mapped_column(ForeignKey("fulfillment.id"))
    rma_number: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="fulfillments")
    house_account: Mapped[HouseAccount] = relationship()
    items: Mapped[list[FulfillmentItem]] = relationship(order_by="FulfillmentItem.id")
    events: Mapped[list[FulfillmentEvent]] = relationship(order_by="FulfillmentEvent.id")
    shipments: Mapped[list[Shipment]] = relationship(order_by="Shipment.id")

    @staticmethod
    def new_reference() -> str:
        return "FF" + secrets.token_hex(8).upper()


class FulfillmentItem(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    fulfillment_id: Mapped[int] = mapped_column(ForeignKey("fulfillment.id"), index=True)
    order_item_id: Mapped[int] = mapped_column(ForeignKey("order_item.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    name: Mapped[str] = mapped_column(String(200))
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))


class Shipment(db.Model):
    """One package of a fulfillment, followed at its carrier until it stops moving."""

    __table_args__ = (
        UniqueConstraint("fulfillment_id", "tracking_number"),
        Index("ix_shipment_due", "done", "next_check_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fulfillment_id: Mapped[int] = mapped_column(ForeignKey("fulfillment.id"), index=True)
    tracking_number: Mapped[str] = mapped_column(String(64), index=True)
    carrier: Mapped[str] = mapped_column(String(40), default="")
    ship_method: Mapped[str] = mapped_column(String(80), default="")
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: the carrier's last word: pre_transit, in_transit, delivered, returned, exception, unknown
    carrier_status: Mapped[str] = mapped_column(String(20), default="pre_transit")
    carrier_detail: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: where the last status came from: "carrier:<key>" or "house"
    status_source: Mapped[str] = mapped_column(String(40), default="")
    next_check_at: Mapped[datetime | None] = mapped_column(DateTime)
    checks: Mapped[int] = mapped_column(Integer, default=0)
    #: delivered, returned, or given up on: never checked again
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class FulfillmentEvent(db.Model):
    """One line of a fulfillment's timeline: a move, or a late event that moved nothing."""

    __table_args__ = (
        #: the board's daily chart counts moves per target status and day from this alone
        Index("ix_fulfillment_event_moves", "to_status", "created_at",
              postgresql_include=["from_status", "applied"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fulfillment_id: Mapped[int] = mapped_column(ForeignKey("fulfillment.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    #: dispatch, tracking, carrier, webhook, api, staff, order_entry
    source: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(254), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    #: False for an event recorded without a change (late, repeated)
    applied: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class DispatchRun(db.Model):
    """One dispatch run's result, for the board's queue health and idempotent firings."""

    __table_args__ = (UniqueConstraint("run_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. "hourly:2026-11-28T20"; a second firing of the same slot finds it and stops
    run_key: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    deferred: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")


class SkuMapping(db.Model):
    """A product SKU that a house knows under another code."""

    __table_args__ = (UniqueConstraint("house_account_id", "product_sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    house_account_id: Mapped[int] = mapped_column(ForeignKey("house_account.id"), index=True)
    product_sku: Mapped[str] = mapped_column(String(64))
    house_sku: Mapped[str] = mapped_column(String(100))


class ShipProfile(db.Model):
    """How orders ship from one house account (Konnektive's Ship Profiles): the house's
    code for the service, and the carrier and method it means."""

    __table_args__ = (UniqueConstraint("house_account_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    house_account_id: Mapped[int] = mapped_column(ForeignKey("house_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    house_code: Mapped[str] = mapped_column(String(100))
    carrier: Mapped[str] = mapped_column(String(40), default="")
    method: Mapped[str] = mapped_column(String(80), default="")
    #: used for products without a profile of their own
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class WebhookEvent(db.Model):
    """A house's webhook delivery, stored once per account: a repeat finds its id and
    changes nothing (another account's event with the same id is its own delivery)."""

    __table_args__ = (UniqueConstraint("source", "house_account_id", "event_id",
                                       name="uq_webhook_event_account_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the route it came in on: shipstation, shipbob, shipmonk
    source: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(200))
    house_account_id: Mapped[int] = mapped_column(ForeignKey("house_account.id"), index=True)
    fulfillment_id: Mapped[int | None] = mapped_column(ForeignKey("fulfillment.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(Text, default="")


api_user_account = db.Table(
    "api_user_account",
    db.Column("api_user_id", ForeignKey("api_user.id", ondelete="CASCADE"), primary_key=True),
    db.Column("house_account_id", ForeignKey("house_account.id", ondelete="CASCADE"),
              primary_key=True),
)


class ApiUser(db.Model):
    """A login for a pull house calling our API. It cannot log into the dashboard."""

    #: endpoint permissions an API user can be granted
    PERMISSIONS = ("order_query", "fulfillment_query", "fulfillment_update")

    id: Mapped[int] = mapped_column(primary_key=True)
    login_id: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    label: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: addresses and CIDR ranges, one per line
    ip_allowlist: Mapped[str] = mapped_column(Text, default="")
    #: granted PERMISSIONS, comma-separated
    permissions: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(254), default="")
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)

    accounts: Mapped[list[HouseAccount]] = relationship(secondary=api_user_account)


class CarrierAccount(db.Model):
    """Credentials for a carrier's tracking API (USPS, UPS, FedEx, DHL Express)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    carrier_key: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(120))
    credentials_encrypted: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: the carrier asked us to slow down until then
    paused_until: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TrackingImport(db.Model):
    """An uploaded tracking CSV, kept between its preview and its application."""

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime)
    summary: Mapped[str] = mapped_column(Text, default="")
