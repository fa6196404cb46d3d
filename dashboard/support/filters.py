"""What support staff filter fulfillments by: status, account, failure reason, the board's
"stuck" kinds, dates and a search box. The fulfillments list, its CSV export, the board
and the review's bulk resend all select through ``filtered``."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import and_, func, or_, select, union
from sqlalchemy.sql.elements import ColumnElement

from adapters.base import FailureReason
from dashboard.extensions import db
from dashboard.ids import parse_id
from dashboard.models import Fulfillment, HouseAccount, Order, Shipment
from dashboard.status import IN_TRANSIT, Status, values

#: a Hold record this long past its due time has missed at least one hourly run
HOLD_OVERDUE = timedelta(hours=2)


@dataclass(frozen=True)
class Stuck:
    """A kind of record that should have moved on by now."""

    label: str
    #: what it usually means, shown under the list
    hint: str
    #: the condition at a given time; each uses a (status, time) index
    condition: Callable[[datetime], ColumnElement]
    #: the column the oldest come first by
    since: object


F = Fulfillment
STUCK: dict[str, Stuck] = {
    "hold_overdue": Stuck(
        "Hold past its due time",
        "Due over two hours ago and not sent: is the account paused or deactivated, or is "
        "the worker down?",
        lambda at: and_(F.status == Status.HOLD.value, F.due_at < at - HOLD_OVERDUE),
        F.due_at),
    "pending_no_tracking": Stuck(
        "Pending with no tracking after 48 hours",
        "The house has had it for two days without shipping: ask the house.",
        lambda at: and_(F.status == Status.PENDING.value,
                        F.updated_at < at - timedelta(hours=48)),
        F.updated_at),
    "no_carrier_scan": Stuck(
        "Pending Shipment with no carrier scan after 5 days",
        "A label was printed but the carrier never scanned the package.",
        lambda at: and_(F.status == Status.PENDING_SHIPMENT.value,
                        F.updated_at < at - timedelta(days=5)),
        F.updated_at),
    "held_at_house": Stuck(
        "Held at the house",
        "The house took the order but holds it (out of stock, an exception in its "
        "warehouse): see what it said in the failed review.",
        lambda at: and_(F.status == Status.PENDING.value, F.failure_reason.is_not(None)),
        F.updated_at),
    "tracking_stale": Stuck(
        "Tracking stale",
        "The carrier stopped reporting before delivery; tracking is no longer checked.",
        lambda at: and_(F.status.in_(values(IN_TRANSIT)),
                        F.tracking_stale.is_(True)),
        F.updated_at),
}


def filtered(args, at: datetime, columns=(Fulfillment, Order, HouseAccount.title)
             ) -> tuple[object, dict[str, str]]:
    """The statement for the list's filters (shared with the CSV export and the review's
    bulk resend) and the filters as understood, so the page can show what it applied."""
    stmt = (select(*columns)
            .join(Order, Fulfillment.order_id == Order.id)
            .join(HouseAccount, Fulfillment.house_account_id == HouseAccount.id))
    applied: dict[str, str] = {}
    status = args.get("status", "")
    if status in {s.value for s in Status}:
        stmt = stmt.where(Fulfillment.status == status)
        applied["status"] = status
    account = args.get("account", "")
    if parse_id(account) is not None:
        stmt = stmt.where(Fulfillment.house_account_id == parse_id(account))
        applied["account"] = account
    reason = args.get("reason", "")
    if reason in {r.value for r in FailureReason}:
        stmt = stmt.where(Fulfillment.failure_reason == reason)
        applied["reason"] = reason
    stuck = args.get("stuck", "")
    if stuck in STUCK:
        stmt = stmt.where(STUCK[stuck].condition(at))
        applied["stuck"] = stuck
    for name in ("since", "until"):
        value = args.get(name, "")
        try:
            day = datetime.strptime(value, "%Y-%m-%d")
        except ValueError:
            continue
        if name == "since":
            stmt = stmt.where(Fulfillment.created_at >= day)
        else:
            stmt = stmt.where(Fulfillment.created_at < day + timedelta(days=1))
        applied[name] = value
    q = (args.get("q") or "").strip()
    if q:
        applied["q"] = q
        stmt = stmt.where(Fulfillment.id.in_(_search(q)))
    return stmt, applied


def _search(q: str):
    """Ids of fulfillments matching ``q`` as an order id, reference, tracking number (of
    any package), customer email or name. Each branch is an indexed lookup; a single OR
    across the joined tables would scan them all."""
    branches = [select(Fulfillment.id).where(Fulfillment.tracking_number == q),
                select(Fulfillment.id).where(Fulfillment.reference == q.upper()),
                select(Shipment.fulfillment_id).where(Shipment.tracking_number == q)]
    if parse_id(q) is not None:
        branches.append(select(Fulfillment.id).where(Fulfillment.order_id == parse_id(q)))
    customers = [Order.email == q.lower()]
    first, _, last = q.partition(" ")
    if last.strip():
        customers.append(Order.last_name.in_(_spellings(last.strip()))
                         & (func.lower(Order.first_name) == first.lower()))
    else:
        customers.append(Order.last_name.in_(_spellings(q)))
    branches.append(select(Fulfillment.id).join(Order, Fulfillment.order_id == Order.id)
                    .where(or_(*customers)))
    return union(*branches)


def _spellings(name: str) -> list[str]:
    """The ways a name is usually typed, so the last-name index still answers."""
    return sorted({name, name.lower(), name.upper(), name.title(), name.capitalize()})


def account_choices():
    return db.session.execute(select(HouseAccount.id, HouseAccount.title)
                              .order_by(HouseAccount.title)).all()
