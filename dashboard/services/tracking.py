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

from flask import current_app
from sqlalchemy import bindparam, insert, select, update

from adapters import CARRIERS, HOUSES, push_houses
from adapters.base import AdapterError, CarrierStatus, SentOrder, TrackingInfo
from adapters.carriers.detect import detect_carrier
from dashboard import status as rules
from dashboard.clock import now
from dashboard.extensions import db
from dashboard.models import Fulfillment, HouseAccount, Shipment
from dashboard.services.carrier_accounts import CarrierTrackers
from dashboard.services.house_accounts import adapter_for
from dashboard.services.house_followed import ask_houses
from dashboard.services.house_problems import CLEARED, apply_problems, release_held
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


#: the longest a house's order waits between checks: an order the house sits on is still
#: owed a shipment, where a package travelling for weeks has mostly said what it will say
HOUSE_SLOWEST = timedelta(hours=4)


def check_interval(since: datetime | None, at: datetime, fastest: float | None = None, *,
                   slowest: timedelta = timedelta(hours=12)) -> timedelta:
    """How long until a record sent or shipped at ``since`` is asked about again, for house
    orders and carrier packages alike: every 15 minutes on its first day (every ``fastest``
    seconds where the house or carrier is that fast), hourly to day 3, every 4 hours to
    day 10, then twice a day, but never less often than ``slowest`` (houses pass
    ``HOUSE_SLOWEST``; their old rule stopped at 4 hours, the carriers' went on to 12)."""
    age = at - (since or at)
    if age < timedelta(days=1):
        return timedelta(seconds=fastest) if fastest else timedelta(minutes=15)
    if age < timedelta(days=3):
        step = timedelta(hours=1)
    elif age < timedelta(days=10):
        step = timedelta(hours=4)
    else:
        step = timedelta(hours=12)
    return min(step, slowest)


# ------------------------------------------------------------------ house tracking


def fast_house_interval() -> float | None:
    """The shortest ``check_interval`` among houses that ship in seconds (the Sandbox) while
    one of their orders is on its way, else None. Ends its read transaction (on SQLite a
    transaction holds the write lock)."""
    fast = {key: cls.check_interval for key, cls in HOUSES.items()
            if getattr(cls, "check_interval", None)}
    if not fast:
        return None
    moving = db.session.scalar(
        select(Fulfillment.id).join(HouseAccount, Fulfillment.house_account_id == HouseAccount.id)
        .where(HouseAccount.adapter_key.in_(fast), HouseAccount.active,
               Fulfillment.status.in_(rules.values(rules.ON_ITS_WAY))).limit(1))
    db.session.commit()
    return None if moving is None else min(fast.values())


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
                   HouseAccount.adapter_key.in_(push_houses()), HouseAccount.active,
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
            _bump(part, at, wait=timedelta(seconds=max(exc.retry_after, 300)))
            db.session.commit()
            continue
        summary.moved += apply_tracking(part, infos, source="tracking", actor=title,
                                        at=at, fastest=adapter.check_interval)
        db.session.commit()


def _bump(rows, at: datetime, *, wait: timedelta | None = None,
          fastest: float | None = None) -> None:
    if not rows:
        return
    db.session.execute(
        update(Fulfillment.__table__).where(Fulfillment.__table__.c.id == bindparam("_id"))
        .values(next_check_at=bindparam("_next")),
        [{"_id": r.id, "_next": at + (wait or check_interval(r.sent_at, at, fastest,
                                                            slowest=HOUSE_SLOWEST))}
         for r in rows])


def apply_tracking(rows, infos: list[TrackingInfo], *, source: str, actor: str,
                   at: datetime, fastest: float | None = None) -> int:
    """Record what a house said about ``rows`` (objects with ``id`` and ``reference``):
    packages move a record to Pending Shipment, a cancellation to Cancelled, a problem to
    Failed or held at the house (``house_problems``), an order moving normally releases a
    hold; anything but a move schedules the next check. Returns how many records moved.
    Does not commit."""
    by_key = {info.key: info for info in infos}
    shipped, cancelled, problems, normal, waiting = {}, [], {}, [], []
    for row in rows:
        info = by_key.get(row.reference)
        if info and info.packages:
            shipped[row.id] = info
        elif info and info.cancelled:
            cancelled.append(row.id)
        else:
            waiting.append(row)
            if info and info.problem:
                problems[row.id] = info.problem
            elif info:
                normal.append(row.id)
    moved = 0
    if shipped:
        moved += len(record_packages(shipped, source=source, actor=actor, at=at).moved)
    if cancelled:
        moved += len(rules.move_many(cancelled, Status.CANCELLED, source=source, actor=actor,
                                     detail="Cancelled at the house.").moved)
    if problems:
        moved += apply_problems(problems, source=source, actor=actor)[0]
    release_held(normal, source=source, actor=actor)
    _bump(waiting, at, fastest=fastest)
    return moved


def record_packages(shipped: dict[int, TrackingInfo], *, source: str, actor: str,
                    at: datetime) -> rules.BulkResult:
    """Store each package as a shipment and move its record to Pending Shipment."""
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
        for package, carrier in zip(info.packages, carriers, strict=True):
            if (fid, package.tracking_number) in existing:
                continue
            existing.add((fid, package.tracking_number))
            shipment_rows.append({
                "fulfillment_id": fid, "tracking_number": package.tracking_number[:64],
                "carrier": carrier, "ship_method": package.ship_method[:80],
                "shipped_at": package.shipped_at or at,
                "carrier_status": (package.house_status.value if package.house_status
                                   else "pre_transit"),
                "carrier_detail": package.house_status_detail[:500],
                "delivered_at": package.delivered_at,
                "status_source": "house" if package.delivered_at or package.house_status
                else "",
                "next_check_at": at, "checks": 0, "done": False, "created_at": at})
    result = rules.move_many(list(shipped), Status.PENDING_SHIPMENT, source=source,
                             actor=actor, values=values, details=details,
                             common={"next_check_at": at, **CLEARED})
    keep = set(result.moved) | set(result.unchanged)
    rows = [r for r in shipment_rows if r["fulfillment_id"] in keep]
    if rows:
        db.session.execute(insert(Shipment.__table__), rows)
    return result


# ------------------------------------------------------------------ carrier tracking

#: how long a carrier that refused our credentials is left alone (saving the account sooner
#: lifts the pause)
REFUSED_PAUSE = timedelta(hours=1)


@dataclass
class _Check:
    """One shipment's row as a check leaves it."""

    id: int
    fulfillment_id: int
    tracking_number: str
    shipped_at: datetime
    carrier_status: str
    carrier_detail: str
    delivered_at: datetime | None
    status_source: str
    checks: int
    next_check_at: datetime
    done: bool = False

    @classmethod
    def due(cls, row, at: datetime, fastest: float | None = None) -> _Check:
        shipped_at = row.shipped_at or row.created_at
        return cls(row.id, row.fulfillment_id, row.tracking_number, shipped_at,
                   row.carrier_status, row.carrier_detail, row.delivered_at, row.status_source,
                   row.checks, at + check_interval(shipped_at, at, fastest))


_DUE_COLUMNS = (Shipment.id, Shipment.fulfillment_id, Shipment.tracking_number,
                Shipment.shipped_at, Shipment.created_at, Shipment.carrier_status,
                Shipment.carrier_detail, Shipment.delivered_at, Shipment.status_source,
                Shipment.checks)


def _due(at: datetime) -> tuple:
    return (Shipment.done.is_(False), Shipment.next_check_at <= at,
            Fulfillment.status.in_(rules.values(rules.IN_TRANSIT)))


def check_carriers() -> TrackingSummary:
    """Ask carriers about every package still moving whose next check is due.

    One carrier at a time, in pages that fill the carrier's batches (FedEx 30 numbers a
    request, DHL 10, UPS and USPS one). A carrier that is down, refuses our credentials or
    asks us to slow down is paused: its remaining packages stay due and are asked about
    at the first check after the pause. Packages of a carrier without an account move on
    the house's own delivery information, where it gave some.
    """

    summary = TrackingSummary()
    at = now()
    stale_after = timedelta(days=current_app.config["TRACKING_STALE_DAYS"])
    trackers = CarrierTrackers()
    due_carriers = sorted(db.session.scalars(
        select(Shipment.carrier).distinct()
        .join(Fulfillment, Shipment.fulfillment_id == Fulfillment.id).where(*_due(at))))
    for carrier_key in due_carriers:
        if not trackers.paused(carrier_key, at):
            _check_carrier(carrier_key, trackers, at, stale_after, summary)
    return summary


def _check_carrier(carrier_key: str, trackers: CarrierTrackers, at: datetime,
                   stale_after: timedelta, summary: TrackingSummary) -> None:
    """Check the due packages of one carrier, a page at a time, committing each page."""
    tracker = trackers.tracker_for(carrier_key)
    batch = max(1, tracker.batch_size) if tracker else CHUNK
    page = -(-CHUNK // batch) * batch
    after = 0
    while True:
        rows = db.session.execute(
            select(*_DUE_COLUMNS).join(Fulfillment, Shipment.fulfillment_id == Fulfillment.id)
            .where(*_due(at), Shipment.carrier == carrier_key, Shipment.id > after)
            .order_by(Shipment.id).limit(page)).all()
        if not rows:
            return
        after = rows[-1].id
        db.session.rollback()  # hold no transaction during the carrier's calls
        fastest = tracker.check_interval if tracker else None
        checks = [_Check.due(row, at, fastest) for row in rows]
        failure = None
        if tracker is None:
            ask_houses([c for c in checks if c.status_source == "house"], at)
            for check in checks:
                _from_house(check, carrier_key)
        else:
            checks, failure = _ask_carrier(tracker, checks, batch, at, summary)
        _mark_stale(checks, at, stale_after)
        _save(checks)
        summary.moved += sum(s.moved for s in settle(
            {c.fulfillment_id for c in checks}, at).values())
        if failure is not None:
            wait = (REFUSED_PAUSE if not failure.transient
                    else timedelta(seconds=max(failure.retry_after, 60)))
            trackers.pause(carrier_key, at + wait)
        db.session.commit()
        if failure is not None:
            return


def _ask_carrier(tracker, checks: list[_Check], batch: int, at: datetime,
                 summary: TrackingSummary) -> tuple[list[_Check], AdapterError | None]:
    """Ask ``tracker`` about ``checks`` a batch at a time. Returns the checks it answered and
    the error that stopped it, if one did; unanswered packages keep their row as it was."""
    answered: list[_Check] = []
    for start in range(0, len(checks), batch):
        part = checks[start:start + batch]
        summary.checked += len(part)
        try:
            events = tracker.track([c.tracking_number for c in part])
        except AdapterError as exc:
            summary.errors += len(part)
            log.warning("carrier %s check failed: %s", tracker.key, exc)
            return answered, exc
        latest = {e.tracking_number: e for e in events}
        for check in part:
            event = latest.get(check.tracking_number)
            if event is not None:
                _from_carrier(check, event, tracker, at)
        answered.extend(part)
    return answered, None


def _from_carrier(check: _Check, event, tracker, at: datetime) -> None:
    check.checks += 1
    check.status_source = f"carrier:{tracker.key}"
    check.carrier_detail = (event.description or _status_words(event.status.value))[:500]
    if event.status is not CarrierStatus.UNKNOWN:  # "not found" keeps what we knew
        check.carrier_status = event.status.value
    if event.status is CarrierStatus.DELIVERED:
        check.delivered_at = event.occurred_at or at
    check.done = event.status in (CarrierStatus.DELIVERED, CarrierStatus.RETURNED)


def _from_house(check: _Check, carrier_key: str) -> None:
    """No carrier account follows this carrier: the house's delivery date, where it gave
    one, is all there is to go on."""
    if check.delivered_at:
        check.carrier_status = CarrierStatus.DELIVERED.value
        check.carrier_detail = check.carrier_detail or "delivered"
        check.status_source = "house"
        check.done = True
    elif not check.carrier_detail:
        check.carrier_detail = (f"No {carrier_name(carrier_key) or 'carrier'} account can "
                                "track this package; waiting for the house's delivery "
                                "information.")


def _mark_stale(checks: list[_Check], at: datetime, stale_after: timedelta) -> None:
    """Give up on packages that have travelled longer than ``stale_after`` without being
    delivered or returned, and flag their records "tracking stale" for support."""
    stale = [c for c in checks if not c.done and at - c.shipped_at > stale_after]
    if not stale:
        return
    for check in stale:
        check.done = True
    fids = sorted({c.fulfillment_id for c in stale})
    current = dict(db.session.execute(
        select(Fulfillment.id, Fulfillment.status)
        .where(Fulfillment.id.in_(fids), Fulfillment.tracking_stale.is_(False))).all())
    if not current:
        return
    db.session.execute(update(Fulfillment).where(Fulfillment.id.in_(list(current)))
                       .values(tracking_stale=True))
    days = stale_after.total_seconds() / 86400
    rules.record_many([(fid, status, f"Tracking stale: not delivered {days:g} days after shipping; "
                             "the carrier is no longer asked. Check with the carrier or the "
                             "house.") for fid, status in current.items()], source="carrier", at=at)


def _save(checks: list[_Check]) -> None:
    if not checks:
        return
    table = Shipment.__table__
    columns = ("carrier_status", "carrier_detail", "delivered_at", "status_source", "checks",
               "next_check_at", "done")
    db.session.execute(
        update(table).where(table.c.id == bindparam("_id"))
        .values(**{name: bindparam("_" + name) for name in columns}),
        [{"_id": c.id, **{"_" + name: getattr(c, name) for name in columns}} for c in checks])


@dataclass(frozen=True)
class Settled:
    """What ``settle`` did with one record."""

    #: what its packages say it is (None: nothing yet)
    target: Status | None
    #: it moved there now
    moved: bool = False
    #: the rules refused the move (the record is in a status it cannot leave for ``target``)
    refusal: rules.Refusal | None = None


def settle(fids: set[int], at: datetime, *, source: str | None = None, actor: str = "",
           details: dict[int, str] | None = None) -> dict[int, Settled]:
    """Move each fulfillment to what its packages say (``status.package_outcome``): the one
    delivery rule, for carrier polling and for a house's own delivery report alike. A
    carrier exception is set for support (and cleared when the package moves on) without
    a move. ``source`` defaults to "carrier" when a carrier reported a package, else
    "tracking"; ``details`` replace the timeline's "According to ..." lines."""
    if not fids:
        return {}
    records = {r.id: r for r in db.session.execute(
        select(Fulfillment.id, Fulfillment.status, Fulfillment.carrier_exception,
               HouseAccount.adapter_key)
        .join(HouseAccount, Fulfillment.house_account_id == HouseAccount.id)
        .where(Fulfillment.id.in_(fids)))}
    packages = defaultdict(list)
    for p in db.session.execute(
            select(Shipment.fulfillment_id, Shipment.tracking_number, Shipment.carrier_status,
                   Shipment.carrier_detail, Shipment.delivered_at, Shipment.status_source)
            .where(Shipment.fulfillment_id.in_(fids)).order_by(Shipment.id)):
        packages[p.fulfillment_id].append(p)
    moves: dict[tuple[Status, str], dict[int, dict]] = defaultdict(dict)
    texts, exceptions, lines, outcome = {}, [], [], {}
    for fid, record in records.items():
        shipped = packages.get(fid, [])
        house = _house_name(record.adapter_key)
        texts[fid] = ((details or {}).get(fid) or _according(shipped, house))[:900]
        who = source or ("carrier" if any(p.status_source.startswith("carrier:")
                                          for p in shipped) else "tracking")
        target, values = rules.package_outcome({p.carrier_status for p in shipped},
                                               [p.delivered_at for p in shipped], at)
        outcome[fid] = Settled(target)
        moving = target is not None and target.value != record.status
        if moving:
            moves[target, who][fid] = values
        problem = "; ".join(
            (f"{p.tracking_number}: " if len(shipped) > 1 else "") + p.carrier_detail.rstrip(".")
            for p in shipped if p.carrier_status == "exception")[:2000]
        if problem != record.carrier_exception:
            exceptions.append({"_id": fid, "_problem": problem})
            if problem or not moving:  # a move says itself that the package moves again
                lines.append((fid, record.status, f"Carrier exception, for support: {problem}"
                              if problem else f"Carrier exception over. {texts[fid]}"))
    if exceptions:
        table = Fulfillment.__table__
        db.session.execute(update(table).where(table.c.id == bindparam("_id"))
                           .values(carrier_exception=bindparam("_problem")), exceptions)
    rules.record_many(lines, source="carrier", at=at)
    for (target, who), group in moves.items():
        result = rules.move_many(list(group), target, source=who, actor=actor, values=group,
                                 details={fid: texts[fid] for fid in group})
        for fid in result.moved:
            outcome[fid] = Settled(target, moved=True)
        for fid, refusal in result.refused.items():
            outcome[fid] = Settled(target, refusal=refusal)
    return outcome


def _according(packages, house: str) -> str:
    """Who said what, for the timeline: "According to UPS: Delivered, front porch", or per
    package when there are several ("According to UPS: 1Z…: In transit; 1Z…: Delivered")."""
    by_source = defaultdict(list)
    for p in packages:
        if p.status_source:
            by_source[p.status_source].append(p)
    several = len(packages) > 1
    return "; ".join(
        f"According to {source_name(source, house)}: " + "; ".join(
            (f"{p.tracking_number}: " if several else "")
            + (p.carrier_detail or _status_words(p.carrier_status)).rstrip(".") for p in group)
        for source, group in by_source.items())


def source_name(status_source: str, house: str) -> str:
    """Who a shipment's ``status_source`` names, in words: "UPS", "the house (ShipBob)"."""
    if status_source.startswith("carrier:"):
        key = status_source.removeprefix("carrier:")
        return carrier_name(key)
    if status_source == "house":
        return f"the house ({house})" if house else "the house"
    return "the carrier"


def carrier_name(carrier_key: str) -> str:
    """"UPS" for "ups"; a carrier we do not track keeps the house's word for it."""
    cls = CARRIERS.get(carrier_key)
    return cls.name if cls else carrier_key


def _house_name(adapter_key: str) -> str:
    cls = HOUSES.get(adapter_key)
    return cls.name if cls else adapter_key


def _status_words(carrier_status: str) -> str:
    return carrier_status.replace("_", " ")
