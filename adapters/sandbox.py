"""The Sandbox house and carrier: a complete house that lives on this machine.

A merchant activates it to watch an order's whole life in a few minutes without any
house account. The "house" keeps its orders in its own SQLite file (``SANDBOX_HOUSE_PATH``,
default ``instance/sandbox-house.sqlite``), apart from the CRM's database, exactly as a
real house keeps its own: it deduplicates by our key, counts every receipt per key, and
rejects what a real warehouse rejects:

- a SKU ending in ``-UNKNOWN`` (no such product at the house),
- a SKU ending in ``-OOS`` (out of stock),
- an address line containing "undeliverable", or ZIP ``00000`` (undeliverable address).

Accepted orders get a tracking number ``ship_after`` seconds later; the Sandbox carrier
then reports the first scan ``scan_after`` seconds after that and delivery
``deliver_after`` seconds after shipping. Every time comes from the injectable clock.
"""
from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Sequence

from adapters.base import (
    Accepted,
    AdapterError,
    CarrierEvent,
    CarrierStatus,
    CarrierTracker,
    CredentialField,
    FailureReason,
    FieldKind,
    HouseAdapter,
    OrderPayload,
    Package,
    Rejected,
    SendOutcome,
    SentOrder,
    TrackingInfo,
    Transient,
    pattern_validator,
)

DEFAULT_STORE = Path(__file__).resolve().parent.parent / "instance" / "sandbox-house.sqlite"
API_KEY_FORMAT = r"sbx_[0-9a-f]{16}"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    key TEXT PRIMARY KEY,
    reference TEXT NOT NULL,
    order_number TEXT NOT NULL,
    received_at TEXT NOT NULL,
    receipts INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'open',
    ship_after REAL NOT NULL,
    scan_after REAL NOT NULL,
    deliver_after REAL NOT NULL,
    tracking_number TEXT UNIQUE
);
"""


def store_path() -> Path:
    return Path(os.environ.get("SANDBOX_HOUSE_PATH") or DEFAULT_STORE)


def connect_store(path: Path | None = None) -> sqlite3.Connection:
    """Open the Sandbox house's own database (created on first use)."""
    path = path or store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(_SCHEMA)
    return conn


def receipts(key: str, path: Path | None = None) -> int:
    """How many times the house received ``key`` (0 when never): the test of "sent once"
    counts creations, and a resend under the same key is a receipt but not a new order."""
    with closing(connect_store(path)) as conn:
        row = conn.execute("SELECT receipts FROM orders WHERE key = ?", (key,)).fetchone()
    return row[0] if row else 0


def tracking_number_for(key: str) -> str:
    """A stable, recognisable tracking number for a Sandbox shipment."""
    return "SBX" + hashlib.sha256(key.encode()).hexdigest()[:15].upper()


def _seconds(label: str):
    def check(value: str) -> str | None:
        try:
            ok = 0 <= float(value) <= 7 * 24 * 3600
        except ValueError:
            ok = False
        return None if ok else f"{label} must be a number of seconds between 0 and 604800."
    return check


class SandboxHouse(HouseAdapter):
    key = "sandbox"
    name = "Sandbox Fulfillment"
    description = ("A practice warehouse that runs on this server. It accepts orders, rejects "
                   "recognisable bad ones (SKUs ending in -UNKNOWN or -OOS, undeliverable "
                   "addresses), ships after a delay you choose and its carrier delivers them, "
                   "so you can watch an order go from Hold to Delivered in minutes.")
    website = "https://en.wikipedia.org/wiki/Third-party_logistics"
    logo = "sandbox.svg"
    batch_size = 50
    check_interval = 15.0
    fields = (
        CredentialField("api_key", "API Key", kind=FieldKind.SECRET,
                        help="sbx_ followed by 16 hexadecimal digits, e.g. sbx_0123456789abcdef.",
                        validator=pattern_validator(
                            API_KEY_FORMAT,
                            "A Sandbox API key is sbx_ followed by 16 hexadecimal digits.")),
        CredentialField("warehouse", "Warehouse", kind=FieldKind.CHOICE, default="east",
                        choices=(("east", "East coast (NJ)"), ("west", "West coast (CA)")),
                        help="Which practice warehouse ships your orders."),
        CredentialField("ship_after", "Ship after (seconds)", default="60",
                        help="How long the house takes to ship an accepted order.",
                        validator=_seconds("Ship after")),
        CredentialField("scan_after", "First carrier scan after (seconds)", default="60",
                        help="Time from shipping to the carrier's first scan (Shipped).",
                        validator=_seconds("First carrier scan after")),
        CredentialField("deliver_after", "Delivered after (seconds)", default="180",
                        help="Time from shipping to delivery (Delivered).",
                        validator=_seconds("Delivered after")),
        CredentialField("outage", "Simulate an outage", kind=FieldKind.CHECKBOX, required=False,
                        help="While ticked the house answers like a server that is down: "
                             "orders stay in Hold and go out once you untick it."),
    )

    def _store(self) -> sqlite3.Connection:
        if self.credentials.get("outage") in ("1", "true", "on", True):
            raise AdapterError("Sandbox house is down (simulated outage).", retry_after=60)
        return connect_store()

    def _delay(self, name: str) -> float:
        try:
            return float(self.credentials.get(name) or next(f.default for f in self.fields
                                                            if f.name == name))
        except ValueError:
            return 60.0

    def _key_problem(self) -> str | None:
        if not re.fullmatch(API_KEY_FORMAT, self.credentials.get("api_key", "")):
            return "The API key was refused: it is not a Sandbox key (sbx_ and 16 hex digits)."
        return None

    def check_credentials(self) -> str | None:
        if problem := self._key_problem():
            return problem
        try:
            self._store().close()
        except AdapterError as exc:
            return str(exc)
        return None

    def _reject_reason(self, order: OrderPayload) -> Rejected | None:
        for line in order.lines:
            if line.sku.upper().endswith("-UNKNOWN"):
                return Rejected(order.key, FailureReason.SKU,
                                f"Product with SKU {line.sku} does not exist in warehouse.")
            if line.sku.upper().endswith("-OOS"):
                return Rejected(order.key, FailureReason.STOCK,
                                f"Insufficient inventory for SKU {line.sku}.")
        to = order.ship_to
        if (to.postal_code.strip() == "00000"
                or "undeliverable" in f"{to.address1} {to.address2}".lower()):
            return Rejected(order.key, FailureReason.ADDRESS,
                            "Address could not be validated: the carrier does not deliver to "
                            f"{to.address1}, {to.city} {to.postal_code}.")
        return None

    def send(self, orders: Sequence[OrderPayload]) -> list[SendOutcome]:
        if len(orders) > self.batch_size:
            raise ValueError(f"at most {self.batch_size} orders per call")
        if self._key_problem():
            return [Rejected(o.key, FailureReason.CREDENTIALS, "401 Unauthorized: invalid API key.")
                    for o in orders]
        try:
            conn = self._store()
        except AdapterError as exc:
            return [Transient(o.key, str(exc), exc.retry_after) for o in orders]
        now = self.clock().isoformat()
        outcomes: list[SendOutcome] = []
        with closing(conn):
            conn.execute("BEGIN IMMEDIATE")
            for order in orders:
                rejected = self._reject_reason(order)
                if rejected:
                    outcomes.append(rejected)
                    continue
                reference = "SBX-" + hashlib.sha256(order.key.encode()).hexdigest()[:10].upper()
                conn.execute(
                    "INSERT INTO orders (key, reference, order_number, received_at, ship_after,"
                    " scan_after, deliver_after) VALUES (?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT(key) DO UPDATE SET receipts = receipts + 1",
                    (order.key, reference, order.order_number, now, self._delay("ship_after"),
                     self._delay("scan_after"), self._delay("deliver_after")))
                outcomes.append(Accepted(order.key, reference))
            conn.execute("COMMIT")
        return outcomes

    def lookup(self, keys: Sequence[str]) -> dict[str, Accepted]:
        with closing(self._store()) as conn:
            marks = ",".join("?" * len(keys))
            rows = conn.execute(f"SELECT key, reference FROM orders WHERE key IN ({marks})",  # noqa: S608 - only ? marks are formatted in
                                list(keys)).fetchall()
        return {key: Accepted(key, ref) for key, ref in rows}

    def fetch_tracking(self, orders: Sequence[SentOrder]) -> list[TrackingInfo]:
        now = self.clock()
        keys = [o.key for o in orders]
        with closing(self._store()) as conn:
            marks = ",".join("?" * len(keys))
            rows = conn.execute(
                f"SELECT key, reference, received_at, ship_after, status FROM orders"  # noqa: S608 - only ? marks are formatted in
                f" WHERE key IN ({marks})", keys).fetchall()
            infos = []
            for key, reference, received_at, ship_after, status in rows:
                if status == "cancelled":
                    infos.append(TrackingInfo(key, reference, cancelled=True))
                    continue
                shipped_at = datetime.fromisoformat(received_at) + timedelta(seconds=ship_after)
                if now < shipped_at:
                    continue
                number = tracking_number_for(key)
                conn.execute("UPDATE orders SET status = 'shipped', tracking_number = ?"
                             " WHERE key = ?", (number, key))
                infos.append(TrackingInfo(key, reference, (Package(
                    number, carrier="sandbox", ship_method="Ground", shipped_at=shipped_at),)))
        return infos

    def cancel(self, order: SentOrder) -> None:
        with closing(self._store()) as conn:
            cur = conn.execute("UPDATE orders SET status = 'cancelled' WHERE key = ?"
                               " AND status = 'open'", (order.key,))
            if cur.rowcount == 0:
                raise AdapterError("The order has already shipped or is unknown to the house; "
                                   "it cannot be cancelled.", transient=False)


class SandboxCarrier(CarrierTracker):
    """The carrier that moves Sandbox shipments: first scan, then delivery, on the house's
    configured delays. Numbers it did not issue are unknown to it."""

    key = "sandbox"
    name = "Sandbox Carrier"
    batch_size = 100
    check_interval = 15.0

    def track(self, tracking_numbers: Sequence[str]) -> list[CarrierEvent]:
        now = self.clock()
        with closing(connect_store()) as conn:
            marks = ",".join("?" * len(tracking_numbers))
            rows = {row[0]: row[1:] for row in conn.execute(
                f"SELECT tracking_number, received_at, ship_after, scan_after, deliver_after"  # noqa: S608 - only ? marks are formatted in
                f" FROM orders WHERE tracking_number IN ({marks})", list(tracking_numbers))}
        events = []
        for number in tracking_numbers:
            if number not in rows:
                events.append(CarrierEvent(number, CarrierStatus.UNKNOWN,
                                           "Tracking number not found."))
                continue
            received_at, ship_after, scan_after, deliver_after = rows[number]
            shipped = datetime.fromisoformat(received_at) + timedelta(seconds=ship_after)
            delivered = shipped + timedelta(seconds=deliver_after)
            scanned = shipped + timedelta(seconds=min(scan_after, deliver_after))
            if now >= delivered:
                events.append(CarrierEvent(number, CarrierStatus.DELIVERED,
                                           "Delivered, front door.", delivered))
            elif now >= scanned:
                events.append(CarrierEvent(number, CarrierStatus.IN_TRANSIT,
                                           "In transit to destination.", scanned))
            else:
                events.append(CarrierEvent(number, CarrierStatus.PRE_TRANSIT,
                                           "Label created, awaiting pickup.", shipped))
        return events
