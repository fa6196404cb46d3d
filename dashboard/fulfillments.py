"""The fulfillments list: filters, search and keyset pagination over every record."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template, request
from sqlalchemy import func, or_, select

from dashboard.extensions import db
from dashboard.models import Fulfillment, HouseAccount, Order
from dashboard.pagination import keyset_page, parse_after
from dashboard.status import Status

bp = Blueprint("fulfillments", __name__, url_prefix="/fulfillments")


def filtered(args) -> tuple[object, dict[str, str]]:
    """The statement for the list's filters (shared with the CSV export) and the filters
    as understood, so the page can show what it applied."""
    stmt = (select(Fulfillment, Order, HouseAccount.title)
            .join(Order, Fulfillment.order_id == Order.id)
            .join(HouseAccount, Fulfillment.house_account_id == HouseAccount.id))
    applied: dict[str, str] = {}
    status = args.get("status", "")
    if status in {s.value for s in Status}:
        stmt = stmt.where(Fulfillment.status == status)
        applied["status"] = status
    account = args.get("account", "")
    if account.isdigit():
        stmt = stmt.where(Fulfillment.house_account_id == int(account))
        applied["account"] = account
    reason = args.get("reason", "")
    if reason:
        stmt = stmt.where(Fulfillment.failure_reason == reason)
        applied["reason"] = reason
    for name, op in (("since", "__ge__"), ("until", "__le__")):
        value = args.get(name, "")
        try:
            day = datetime.strptime(value, "%Y-%m-%d")
        except ValueError:
            continue
        if name == "until":
            day = day.replace(hour=23, minute=59, second=59)
        stmt = stmt.where(getattr(Fulfillment.created_at, op)(day))
        applied[name] = value
    q = (args.get("q") or "").strip()
    if q:
        applied["q"] = q
        conditions = [Fulfillment.tracking_number == q, Fulfillment.reference == q.upper(),
                      Order.email == q.lower(), func.lower(Order.last_name) == q.lower()]
        if q.isdigit():
            conditions.append(Fulfillment.order_id == int(q))
        if " " in q:
            first, _, last = q.partition(" ")
            conditions.append((func.lower(Order.first_name) == first.lower())
                              & (func.lower(Order.last_name) == last.strip().lower()))
        stmt = stmt.where(or_(*conditions))
    return stmt, applied


@bp.route("/")
def index():
    stmt, applied = filtered(request.args)
    page = keyset_page(db.session, stmt, Fulfillment.id, parse_after(request.args.get("after")),
                       size=50)
    accounts = db.session.execute(select(HouseAccount.id, HouseAccount.title)
                                  .order_by(HouseAccount.title)).all()
    return render_template("fulfillments/index.html", page=page, applied=applied,
                           accounts=accounts)
