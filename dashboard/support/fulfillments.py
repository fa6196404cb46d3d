"""The fulfillments list: its filters (``filters``), keyset pagination and a streamed CSV
export of whatever the filters select."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Iterator

from flask import Blueprint, Response, render_template, request, stream_with_context

from adapters.base import FailureReason
from dashboard.clock import now
from dashboard.extensions import db
from dashboard.models import Fulfillment, HouseAccount, Order
from dashboard.pagination import keyset_page, parse_after
from dashboard.support.filters import STUCK, account_choices, filtered

bp = Blueprint("fulfillments", __name__, url_prefix="/fulfillments", template_folder="templates")

#: rows per query while exporting; each chunk is written out and forgotten
EXPORT_CHUNK = 2000
#: the columns of the CSV export, in order
EXPORT_HEADER = ("orderId", "fulfillmentId", "reference", "houseAccount", "status",
                 "failureReason", "failureMessage", "isReshipment", "firstName", "lastName",
                 "email", "address1", "address2", "city", "state", "postalCode", "country",
                 "trackingNumber", "carrier", "shipMethod", "dateCreated", "dateUpdated",
                 "dateSent", "dateShipped", "dateDelivered")


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
