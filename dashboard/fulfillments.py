"""The fulfillments list: filters, search, the board's "stuck" kinds, keyset pagination
and a streamed CSV export of whatever the filters select."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterator

from flask import Blueprint, Response, render_template, request, stream_with_context
from sqlalchemy import and_, func, or_, select, union
from sqlalchemy.sql.elements import ColumnElement

from adapters.base import FailureReason
from dashboard.clock import now
from dashboard.extensions import db
from dashboard.ids import parse_id
from dashboard.models import Fulfillment, HouseAccount, Order, Shipment
from dashboard.pagination import keyset_page, parse_after
from dashboard.status import Status

bp = Blueprint("fulfillments", __name__, url_prefix="/fulfillments")

#: rows per query while exporting; each chunk is written out and forgotten
EXPORT_CHUNK = 2000
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
        lambda at: and_(F.status.in_([Status.PENDING_SHIPMENT.value, Status.SHIPPED.value]),
                        F.tracking_stale.is_(True)),
        F.updated_at),
}

#: the columns of the CSV export, in order
EXPORT_HEADER = ("orderId", "fulfillmentId", "reference", "houseAccount", "status",
                 "failureReason", "failureMessage", "isReshipment", "firstName", "lastName",
                 "email", "address1", "address2", "city", "state", "postalCode", "country",
                 "trackingNumber", "carrier", "shipMethod", "dateCreated", "dateUpdated",
                 "dateSent", "dateShipped", "dateDelivered")


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


@bp.route("/")
def index():
    stmt, applied = filtered(request.args, now())
    page = keyset_page(db.session, stmt, Fulfillment.id, parse_after(request.args.get("after")),
                       size=50)
    return render_template("fulfillments/index.html", page=page, applied=applied,
                           accounts=account_choices(), stuck=STUCK,
                           reasons=[r.value for r in FailureReason])


@bp.route("/export.csv")
def export():
    """The filtered set as CSV, written chunk by chunk as the client reads it."""
    at = now()
    f, o = Fulfillment, Order
    stmt, _applied = filtered(request.args, at, columns=(
        f.id, f.order_id, f.reference, HouseAccount.title, f.status, f.failure_reason,
        f.failure_message, f.is_reshipment, o.first_name, o.last_name, o.email, o.address1,
        o.address2, o.city, o.state, o.postal_code, o.country, f.tracking_number, f.carrier,
        f.ship_method, f.created_at, f.updated_at, f.sent_at, f.shipped_at, f.delivered_at))
    name = f"fulfillments-{at:%Y%m%d-%H%M}.csv"
    return Response(stream_with_context(_csv_lines(stmt)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _csv_lines(stmt) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_HEADER)
    after = None
    while True:
        page = keyset_page(db.session, stmt, Fulfillment.id, after, size=EXPORT_CHUNK)
        for row in page.rows:
            fid, order_id, *rest = row
            writer.writerow([order_id, fid, *(_cell(v) for v in rest)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if page.next_after is None:
            return
        after = page.next_after


def _cell(value) -> str:
    """A CSV cell; text a spreadsheet would run as a formula is quoted with a leading '."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
