"""Asking houses for tracking, and carriers for where packages are.

The house check moves Pending records to Pending Shipment when a tracking number
arrives (one shipment row per package). The carrier check follows packages until they
stop moving: Shipped at the first scan, Delivered when every package is delivered,
Returned on return to sender. Both look only at records whose next check is due, and
space checks out as a record ages, so the work follows what is moving.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, update

from adapters import get_carrier
from adapters.base import AdapterError, CarrierStatus, SentOrder, TrackingInfo
from dashboard import status as rules
from dashboard.clock import now
from dashboard.dispatch import push_keys
from dashboard.extensions import db
from dashboard.house_accounts import adapter_for
from dashboard.models import Fulfillment, HouseAccount, Shipment
from dashboard.status import Status

log = logging.getLogger(__name__)

CHUNK = 500
#: SentOrders handed to one fetch_tracking call
TRACKING_SLICE = 100


@dataclass
class TrackingSummary:
    checked: int = 0
    moved: int = 0
    errors: int = 0


def house_check_interval(sent_at: datetime | None, at: datetime) -> timedelta:
    """Fresh orders are asked about often; orders the house sits on, less."""
    age = at - (sent_at or at)
    if age < timedelta(days=1):
        return timedelta(minutes=15)
    if age < timedelta(days=3):
        return timedelta(hours=1)
    return timedelta(hours=4)


def carrier_check_interval(shipped_at: datetime | None, at: datetime) -> timedelta:
    age = at - (shipped_at or at)
    if age < timedelta(days=1):
        return timedelta(minutes=15)
    if age < timedelta(days=3):
        return timedelta(hours=1)
    if age < timedelta(days=10):
        return timedelta(hours=4)
    return timedelta(hours=12)


# ------------------------------------------------------------------ house tracking


def check_houses() -> TrackingSummary:
    """Ask each push house about its Pending fulfillments that are due for a check."""
    summary = TrackingSummary()
    at = now()
    after = 0
    while True:
        rows = db.session.execute(
            select(Fulfillment.id, Fulfillment.reference, Fulfillment.house_reference,
                   Fulfillment.order_id, Fulfillment.house_account_id, Fulfillment.sent_at)
            .join(HouseAccount, Fulfillment.house_account_id == HouseAccount.id)
            .where(Fulfillment.status == Status.PENDING.value,
                   (Fulfillment.next_check_at <= at) | Fulfillment.next_check_at.is_(None),
                   HouseAccount.adapter_key.in_(push_keys()), HouseAccount.active,
                   Fulfillment.id > after)
            .order_by(Fulfillment.id).limit(CHUNK)).all()
        if not rows:
            break
        after = rows[-1].id
        by_account = defaultdict(list)
        for row in rows:
            by_account[row.house_account_id].append(row)
        clients = {a.id: (adapter_for(a), a.title) for a in db.session.scalars(
            select(HouseAccount).where(HouseAccount.id.in_(list(by_account))))}
        db.session.rollback()  # hold no transaction during HTTP calls
        for account_id, group in by_account.items():
            adapter, title = clients[account_id]
            _check_account(adapter, title, group, at, summary)
    return summary


def _check_account(adapter, title: str, group, at: datetime, summary: TrackingSummary):
    for start in range(0, len(group), TRACKING_SLICE):
        part = group[start:start + TRACKING_SLICE]
        summary.checked += len(part)
        try:
            infos = adapter.fetch_tracking([
                SentOrder(r.reference, r.house_reference or "", f"{r.order_id}-{r.id}")
                for r in part])
        except AdapterError as exc:
            summary.errors += len(part)
            log.warning("tracking check of %s failed: %s", title, exc)
            _bump(part, at, timedelta(seconds=max(exc.retry_after, 300)))
            db.session.commit()
            continue
        summary.moved += apply_tracking(part, infos, source="tracking", actor=title,
                                        at=at)
        db.session.commit()


def _bump(rows, at: datetime, wait: timedelta | None = None) -> None:
    if not rows:
        return
    db.session.execute(
        update(Fulfillment.__table__).where(Fulfillment.__table__.c.id == bindparam("_id"))
        .values(next_check_at=bindparam("_next")),
        [{"_id": r.id, "_next": at + (wait or house_check_interval(r.sent_at, at))}
         for r in rows])


def apply_tracking(rows, infos: list[TrackingInfo], *, source: str, actor: str,
                   at: datetime) -> int:
    """Record what a house said about ``rows`` (objects with ``id`` and ``reference``):
    packages move a record to Pending Shipment, a cancellation to Cancelled, silence
    schedules the next check. Returns how many records moved. Does not commit."""
    by_key = {info.key: info for info in infos}
    shipped, cancelled, silent = {}, [], []
    for row in rows:
        info = by_key.get(row.reference)
        if info and info.packages:
            shipped[row.id] = info
        elif info and info.cancelled:
            cancelled.append(row.id)
        else:
            silent.append(row)
    moved = 0
    if shipped:
        moved += len(record_packages(shipped, source=source, actor=actor, at=at).moved)
    if cancelled:
        moved += len(rules.move_many(cancelled, Status.CANCELLED, source=source, actor=actor,
                                     detail="Cancelled at the house.").moved)
    _bump(silent, at)
    return moved


def record_packages(shipped: dict[int, TrackingInfo], *, source: str, actor: str,
                    at: datetime) -> rules.BulkResult:
    """Store each package as a shipment and move its record to Pending Shipment."""
    from adapters.carriers.detect import detect_carrier  # noqa: PLC0415 (optional table)
    values, details, shipment_rows = {}, {}, []
    existing = set(db.session.execute(
        select(Shipment.fulfillment_id, Shipment.tracking_number)
        .where(Shipment.fulfillment_id.in_(list(shipped)))).all())
    for fid, info in shipped.items():
        first = info.packages[0]
        carriers = [detect_carrier(p.tracking_number, p.carrier) or p.carrier or ""
                    for p in info.packages]
        values[fid] = {"tracking_number": first.tracking_number[:64], "carrier": carriers[0],
                       "ship_method": first.ship_method[:80],
                       "shipped_at": first.shipped_at or at}
        numbers = ", ".join(p.tracking_number for p in info.packages)
        details[fid] = f"Tracking received: {numbers}."
        for package, carrier in zip(info.packages, carriers):
            if (fid, package.tracking_number) in existing:
                continue
            existing.add((fid, package.tracking_number))
            shipment_rows.append({
                "fulfillment_id": fid, "tracking_number": package.tracking_number[:64],
                "carrier": carrier, "ship_method": package.ship_method[:80],
                "shipped_at": package.shipped_at or at, "carrier_status": "pre_transit",
                "carrier_detail": "", "delivered_at": package.delivered_at,
                "status_source": "house" if package.delivered_at else "",
                "next_check_at": at, "checks": 0, "done": False, "created_at": at})
    result = rules.move_many(list(shipped), Status.PENDING_SHIPMENT, source=source,
                             actor=actor, values=values, details=details,
                             common={"next_check_at": at})
    keep = set(result.moved) | set(result.unchanged)
    rows = [r for r in shipment_rows if r["fulfillment_id"] in keep]
    if rows:
        db.session.execute(insert(Shipment.__table__), rows)
    return result


# ------------------------------------------------------------------ carrier tracking


def tracker_for(carrier_key: str):
    """The carrier tracker that can follow ``carrier_key``, or None when none is set up."""
    from dashboard.carrier_accounts import tracker_for as configured
    return configured(carrier_key)


def check_carriers() -> TrackingSummary:
    """Ask carriers about every package still moving whose next check is due."""
    from flask import current_app
    summary = TrackingSummary()
    at = now()
    stale_after = timedelta(days=current_app.config["TRACKING_STALE_DAYS"])
    after = 0
    while True:
        shipments = db.session.scalars(
            select(Shipment).join(Fulfillment, Shipment.fulfillment_id == Fulfillment.id)
            .where(Shipment.done.is_(False), Shipment.next_check_at <= at,
                   Fulfillment.status.in_([Status.PENDING_SHIPMENT.value,
                                           Status.SHIPPED.value]),
                   Shipment.id > after)
            .order_by(Shipment.id).limit(CHUNK)).all()
        if not shipments:
            break
        after = shipments[-1].id
        by_carrier = defaultdict(list)
        for shipment in shipments:
            by_carrier[shipment.carrier].append(shipment)
        for carrier_key, group in by_carrier.items():
            _check_carrier(carrier_key, group, at, stale_after, summary)
        summary.moved += _settle_fulfillments({s.fulfillment_id for s in shipments}, at)
        db.session.commit()
    return summary


def _check_carrier(carrier_key: str, group: list[Shipment], at: datetime,
                   stale_after: timedelta, summary: TrackingSummary) -> None:
    tracker = tracker_for(carrier_key)
    for shipment in group:
        shipment.next_check_at = at + carrier_check_interval(shipment.shipped_at, at)
    if tracker is None:
        for shipment in group:  # the house's own delivery information, where it gave some
            if shipment.delivered_at and shipment.carrier_status != "delivered":
                shipment.carrier_status = CarrierStatus.DELIVERED.value
                shipment.status_source = "house"
                shipment.done = True
            elif not shipment.carrier_detail:
                shipment.carrier_detail = (f"No carrier account can track "
                                           f"{carrier_key or 'this carrier'}; waiting for the "
                                           "house's delivery information.")
            _mark_stale(shipment, at, stale_after)
        return
    size = max(1, tracker.batch_size)
    for start in range(0, len(group), size):
        part = group[start:start + size]
        summary.checked += len(part)
        try:
            events = tracker.track([s.tracking_number for s in part])
        except AdapterError as exc:
            summary.errors += len(part)
            log.warning("carrier %s check failed: %s", carrier_key, exc)
            for shipment in part:
                shipment.next_check_at = at + timedelta(seconds=max(exc.retry_after, 300))
            continue
        latest = {e.tracking_number: e for e in events}
        for shipment in part:
            shipment.checks += 1
            event = latest.get(shipment.tracking_number)
            if event is None:
                continue
            shipment.status_source = f"carrier:{tracker.key}"
            shipment.carrier_detail = event.description[:500]
            if event.status is CarrierStatus.EXCEPTION:
                shipment.carrier_status = CarrierStatus.EXCEPTION.value
            elif event.status is not CarrierStatus.UNKNOWN:
                shipment.carrier_status = event.status.value
            if event.status is CarrierStatus.DELIVERED:
                shipment.delivered_at = event.occurred_at or at
            if event.status in (CarrierStatus.DELIVERED, CarrierStatus.RETURNED):
                shipment.done = True
            else:
                _mark_stale(shipment, at, stale_after)


def _mark_stale(shipment: Shipment, at: datetime, stale_after: timedelta) -> None:
    if not shipment.done and shipment.shipped_at and at - shipment.shipped_at > stale_after:
        shipment.done = True
        db.session.execute(update(Fulfillment).where(Fulfillment.id == shipment.fulfillment_id)
                           .values(tracking_stale=True))


def _settle_fulfillments(fids: set[int], at: datetime) -> int:
    """Move each fulfillment to what its packages say, through the status rules."""
    db.session.flush()
    current = dict(db.session.execute(select(Fulfillment.id, Fulfillment.status)
                                      .where(Fulfillment.id.in_(fids))).all())
    shipments = defaultdict(list)
    for s in db.session.scalars(select(Shipment).where(Shipment.fulfillment_id.in_(fids))):
        shipments[s.fulfillment_id].append(s)
    targets: dict[Status, dict[int, dict]] = defaultdict(dict)
    details: dict[int, str] = {}
    exceptions = {}
    for fid, packages in shipments.items():
        states = {p.carrier_status for p in packages}
        source = ", ".join(sorted({p.status_source for p in packages if p.status_source}))
        if "returned" in states:
            targets[Status.RETURNED][fid] = {"returned_at": at}
        elif states == {"delivered"}:
            targets[Status.DELIVERED][fid] = {
                "delivered_at": max(p.delivered_at or at for p in packages)}
        elif states & {"in_transit", "delivered", "exception"}:
            targets[Status.SHIPPED][fid] = {}
        details[fid] = f"According to {source or 'the carrier'}: " + "; ".join(
            f"{p.tracking_number} {p.carrier_detail}".strip() for p in packages)[:900]
        problem = "; ".join(f"{p.tracking_number}: {p.carrier_detail}" for p in packages
                            if p.carrier_status == "exception")
        exceptions[fid] = problem
    for fid, problem in exceptions.items():
        db.session.execute(update(Fulfillment).where(Fulfillment.id == fid)
                           .values(carrier_exception=problem[:2000]))
    moved = 0
    for target in (Status.SHIPPED, Status.DELIVERED, Status.RETURNED):
        group = {fid: v for fid, v in targets.get(target, {}).items()
                 if current.get(fid) != target.value}
        if not group:
            continue
        result = rules.move_many(list(group), target, source="carrier", values=group,
                                 details={fid: details[fid] for fid in group})
        moved += len(result.moved)
    return moved
