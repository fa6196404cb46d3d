"""The status board: where every fulfillment stands, per status and house account."""
from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models import Fulfillment, HouseAccount
from dashboard.status import Status

bp = Blueprint("board", __name__)


@bp.route("/")
def index():
    rows = db.session.execute(
        select(Fulfillment.house_account_id, Fulfillment.status, func.count(),
               func.min(Fulfillment.updated_at))
        .group_by(Fulfillment.house_account_id, Fulfillment.status)).all()
    accounts = db.session.execute(select(HouseAccount.id, HouseAccount.title, HouseAccount.active)
                                  .order_by(HouseAccount.title)).all()
    counts = {(r[0], r[1]): r[2] for r in rows}
    oldest = {}
    totals = {}
    for account_id, status, count, since in rows:
        totals[status] = totals.get(status, 0) + count
        if since and (status not in oldest or since < oldest[status]):
            oldest[status] = since
    return render_template("board/index.html", statuses=list(Status), accounts=accounts,
                           counts=counts, totals=totals, oldest=oldest)
