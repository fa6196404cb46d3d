"""The Konnektive-compatible API that pull houses call: Order Query, Fulfillment Query and
Update Fulfillment, with Konnektive's wire shape (see ``crm-api.md``).

Every answer is HTTP 200 with ``{"result": "SUCCESS"|"ERROR", "message": ...}``. Parameters
come from the query string or a form body. Request dates are ``m/d/Y``; response datetimes
``YYYY-MM-DD HH:MM:SS`` (UTC); numbers are strings; status words are upper case. Pages are
numbered as Konnektive numbers them and served by keyset paging (``api_paging``): each page
is one bounded query plus one query per related table for the whole page, never one per
row, and the count is read once per walk of pages.
"""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from flask import Blueprint, jsonify, request
from sqlalchemy import exists, func, or_, select

from dashboard.api import api_auth, api_paging
from dashboard.api.openapi import openapi_document
from dashboard.clock import now
from dashboard.extensions import db
from dashboard.ids import MAX_ID, parse_id, whole_number
from dashboard.models import ApiUser, Fulfillment, FulfillmentItem, Order, OrderItem
from dashboard.services import house_terms, pull_houses
from dashboard.services.pull_houses import REPORTS, Report, ReportRefused, Scope
from dashboard.status import OPEN, Status, values

bp = Blueprint("api", __name__)

REQUIRED = "is a required field"
NOT_FOUND = "No orders matching those parameters could be found"
NO_FULFILLMENT = "No fulfillments matching those parameters could be found"
PAGE_MAX = 200
PAGE_DEFAULT = 25
TEXT_MAX = 32
#: Konnektive's order statuses; every order here is a placed, paid order (COMPLETE)
ORDER_STATUSES = ("COMPLETE", "PARTIAL", "DECLINED", "REFUNDED", "CANCELLED")
#: customer filters of Order Query and the columns they match (exact, case-insensitive)
CUSTOMER_FILTERS = {"firstName": Order.first_name, "lastName": Order.last_name,
                    "emailAddress": Order.email, "phoneNumber": Order.phone,
                    "postalCode": Order.postal_code}


class NoMatch(Exception):
    """Nothing the caller may see matches; the message says so in Konnektive's words."""


class BadParameters(Exception):
    """Invalid parameters: ``errors`` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


def envelope(result: str, message) -> tuple:
    return jsonify({"result": result, "message": message}), 200


def _error(message, *, user: ApiUser | None, retry_after: int = 0):
    api_auth.log_call(request.path, user, f"ERROR {message}")
    response, status = envelope("ERROR", message)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response, status


def _call(permission: str, handler):
    """Authenticate, run ``handler(user, params)``, commit, and wrap the answer."""
    params = request.values
    refused = api_auth.nul_fields(params)
    if refused:
        return _error({name: "must not contain a NUL character" for name in refused}, user=None)
    try:
        user = api_auth.authenticate(params.get("loginId"), params.get("password"), permission)
    except api_auth.Refused as exc:
        db.session.rollback()
        return _error(exc.refusal.message, user=None, retry_after=exc.refusal.retry_after)
    try:
        message = handler(user, params)
    except BadParameters as exc:
        db.session.rollback()
        return _error(exc.errors, user=user)
    except (ReportRefused, NoMatch) as exc:
        db.session.rollback()
        return _error(str(exc), user=user)
    db.session.commit()
    api_auth.log_call(request.path, user, "SUCCESS")
    return envelope("SUCCESS", message)


# ------------------------------------------------------------------ parameters




def _text(params, name: str, errors: dict, *, limit: int = TEXT_MAX) -> str:
    value = (params.get(name) or "").strip()
    if len(value) > limit:
        errors[name] = f"must be at most {limit} characters"
    return value


def _id(params, name: str, errors: dict) -> int | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    if not whole_number(value, 18):
        errors[name] = "must be a number"
        return None
    if parse_id(value) is None:
        errors[name] = f"must be a number from 1 to {MAX_ID}"
        return None
    return int(value)


def _date(params, name: str, errors: dict) -> date | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)
    try:
        if not match:
            raise ValueError
        month, day, year = (int(g) for g in match.groups())
        if not 1900 <= year <= 2999:
            raise ValueError
        return date(year, month, day)
    except ValueError:
        errors[name] = "must be a date in m/d/Y format"
        return None


def _choice(params, name: str, choices, errors: dict) -> str:
    value = (params.get(name) or "").strip()
    if value and value.upper() not in choices:
        errors[name] = "must be one of " + ", ".join(choices)
    return value.upper()


def _paging(params, errors: dict) -> tuple[int, int]:
    page, per_page = 1, PAGE_DEFAULT
    raw_page = (params.get("page") or "").strip()
    if raw_page:
        if not whole_number(raw_page, 9) or int(raw_page) < 1:
            errors["page"] = "must be a whole number from 1"
        else:
            page = int(raw_page)
    raw_size = (params.get("resultsPerPage") or "").strip()
    if raw_size:
        if not whole_number(raw_size, 3) or not 1 <= int(raw_size) <= PAGE_MAX:
            errors["resultsPerPage"] = f"must be a whole number from 1 to {PAGE_MAX}"
        else:
            per_page = int(raw_size)
    return page, per_page


def _date_range(params, errors: dict, *, required: bool):
    """(range type, start datetime, end datetime exclusive) from the m/d/Y parameters."""
    kind = (params.get("dateRangeType") or "dateCreated").strip()
    if kind not in ("dateCreated", "dateUpdated"):
        errors["dateRangeType"] = "must be dateCreated or dateUpdated"
    start, end = _date(params, "startDate", errors), _date(params, "endDate", errors)
    for name, value in (("startDate", start), ("endDate", end)):
        if required and value is None and name not in errors:
            errors[name] = REQUIRED
    if start and end and end < start:
        errors["endDate"] = "must not be before startDate"
    return (kind,
            datetime.combine(start, time()) if start else None,
            datetime.combine(end, time()) + timedelta(days=1) if end else None)


def _where_dates(stmt, column_created, column_updated, kind, start, end):
    column = column_updated if kind == "dateUpdated" else column_created
    if start:
        stmt = stmt.where(column >= start)
    if end:
        stmt = stmt.where(column < end)
    return stmt


# ------------------------------------------------------------------ wire formats


def _dt(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else None


def _num(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def _wire(status: str) -> str:
    return Status(status).wire


FULFILLMENT_COLUMNS = (
    Fulfillment.id, Fulfillment.order_id, Fulfillment.house_account_id, Fulfillment.status,
    Fulfillment.house_reference, Fulfillment.tracking_number, Fulfillment.carrier,
    Fulfillment.ship_method, Fulfillment.shipped_at, Fulfillment.delivered_at,
    Fulfillment.returned_at, Fulfillment.created_at, Fulfillment.updated_at,
    Fulfillment.date_exported, Fulfillment.is_reshipment, Fulfillment.failure_message,
    Fulfillment.rma_number)


def _fulfillment_items(ids: list[int]) -> dict[int, list]:
    items = defaultdict(list)
    if ids:
        for item in db.session.execute(
                select(FulfillmentItem.id, FulfillmentItem.fulfillment_id, FulfillmentItem.name,
                       FulfillmentItem.sku, FulfillmentItem.quantity, FulfillmentItem.product_id)
                .where(FulfillmentItem.fulfillment_id.in_(ids)).order_by(FulfillmentItem.id)):
            items[item.fulfillment_id].append(item)
    return items


def _fulfillment_wire(row: dict, scope: Scope, items: list, terms: house_terms.Terms) -> dict:
    """One fulfillment as both queries show it (Order Query nests these), in its house's
    terms (SKU mappings, ship profile)."""
    status = _wire(row["status"])
    return {
        "fulfillmentId": _num(row["id"]),
        "orderId": _num(row["order_id"]),
        "fulfillmentHouseId": _num(row["house_account_id"]),
        "company": scope.titles.get(row["house_account_id"], ""),
        "clientFulfillmentId": row["house_reference"],
        "status": status,
        "trackingNumber": row["tracking_number"],
        "shipCarrier": row["carrier"] or None,
        "shipMethod": row["ship_method"] or None,
        "dateShipped": _dt(row["shipped_at"]),
        "dateDelivered": _dt(row["delivered_at"]),
        "dateReturned": _dt(row["returned_at"]),
        "dateCreated": _dt(row["created_at"]),
        "dateUpdated": _dt(row["updated_at"]),
        "dateExported": _dt(row["date_exported"]),
        "isReshipment": "1" if row["is_reshipment"] else "0",
        "responseText": row["failure_message"] or None,
        "rmaNumber": row["rma_number"] or None,
        "items": [{"fulfillmentItemId": _num(i.id), "name": i.name,
                   "sku": terms.sku(row["id"], i.sku),
                   "qty": _num(i.quantity), "status": status, "productId": _num(i.product_id)}
                  for i in items],
    }


def _ship_to(get) -> dict:
    """The ship-to fields; ``get(column)`` reads an order column (from a row or an Order)."""
    return {"shipFirstName": get("first_name"), "shipLastName": get("last_name"),
            "shipAddress1": get("address1"), "shipAddress2": get("address2") or None,
            "shipCity": get("city"), "shipState": get("state") or None,
            "shipPostalCode": get("postal_code"), "shipCountry": get("country")}


def _page_message(total: int, page: int, per_page: int, data: list) -> dict:
    return {"totalResults": str(total), "resultsPerPage": str(per_page), "page": str(page),
            "data": data}


# ------------------------------------------------------------------ /fulfillment/query/


@bp.route("/fulfillment/query/", methods=["GET", "POST"])
def fulfillment_query():
    return _call("fulfillment_query", _fulfillment_query)


def _fulfillment_query(user: ApiUser, params) -> dict:
    errors: dict[str, str] = {}
    order_id = _id(params, "orderId", errors)
    wanted = _choice(params, "fulfillmentStatus", [s.wire for s in Status], errors)
    kind, start, end = _date_range(params, errors, required=not params.get("orderId"))
    page, per_page = _paging(params, errors)
    if errors:
        raise BadParameters(errors)
    at = now()
    scope = pull_houses.scope_of(user)
    walk = api_paging.begin(user.id, "fulfillment", params, page, per_page, at)
    where = [scope.visible(at)]
    if order_id is not None:
        where.append(Fulfillment.order_id == order_id)
    if wanted == Status.HOLD.wire:  # records handed over since the walk began still match
        where.append(or_(Fulfillment.status == Status.HOLD.value,
                         Fulfillment.date_exported > walk.began))
    elif wanted:
        where.append(Fulfillment.status == wanted.lower())
    stmt = _where_dates(
        select(*FULFILLMENT_COLUMNS, Order.first_name, Order.last_name, Order.address1,
               Order.address2, Order.city, Order.state, Order.postal_code, Order.country)
        .join(Order, Order.id == Fulfillment.order_id).where(*where),
        Fulfillment.created_at, Fulfillment.updated_at, kind, start, end)
    rows = [dict(r._mapping) for r in db.session.execute(
        stmt.where(Fulfillment.id > walk.after_id).order_by(Fulfillment.id)
        .offset(walk.skip).limit(per_page))]
    if not rows:
        raise NoMatch(NOT_FOUND)
    total = api_paging.finish(walk, [r["id"] for r in rows], lambda: db.session.scalar(
        select(func.count()).select_from(_where_dates(
            select(Fulfillment.id).where(*where), Fulfillment.created_at,
            Fulfillment.updated_at, kind, start, end).subquery())))
    pull_houses.export(rows, scope, actor=user.login_id, via="Fulfillment Query", at=at)
    items = _fulfillment_items([r["id"] for r in rows])
    terms = house_terms.served(rows, [i for group in items.values() for i in group])
    data = []
    for row in rows:
        record = _fulfillment_wire(row, scope, items[row["id"]], terms)
        record.update(_ship_to(row.get))
        data.append(record)
    return _page_message(total, page, per_page, data)


# ------------------------------------------------------------------ /order/query/


@bp.route("/order/query/", methods=["GET", "POST"])
def order_query():
    return _call("order_query", _order_query)


def _order_query(user: ApiUser, params) -> dict:
    errors: dict[str, str] = {}
    order_id = _id(params, "orderId", errors)
    order_status = _choice(params, "orderStatus", ORDER_STATUSES, errors)
    kind, start, end = _date_range(params, errors, required=not params.get("orderId"))
    page, per_page = _paging(params, errors)
    customer = {name: _text(params, name, errors, limit=254) for name in CUSTOMER_FILTERS}
    if errors:
        raise BadParameters(errors)
    at = now()
    scope = pull_houses.scope_of(user)
    visible = scope.visible(at)
    where = [exists().where(Fulfillment.order_id == Order.id, visible)]
    if order_id is not None:
        where.append(Order.id == order_id)
    if order_status and order_status != "COMPLETE":
        raise NoMatch(NOT_FOUND)
    for name, value in customer.items():
        if value:
            where.append(func.lower(CUSTOMER_FILTERS[name]) == value.lower())
    walk = api_paging.begin(user.id, "order", params, page, per_page, at)
    orders = db.session.scalars(
        _where_dates(select(Order).where(*where, Order.id > walk.after_id), Order.created_at,
                     Order.updated_at, kind, start, end)
        .order_by(Order.id).offset(walk.skip).limit(per_page)).all()
    if not orders:
        raise NoMatch(NOT_FOUND)
    total = api_paging.finish(walk, [o.id for o in orders], lambda: db.session.scalar(
        select(func.count()).select_from(_where_dates(
            select(Order.id).where(*where), Order.created_at, Order.updated_at, kind, start,
            end).subquery())))
    order_ids = [o.id for o in orders]
    rows = [dict(r._mapping) for r in db.session.execute(
        select(*FULFILLMENT_COLUMNS).where(Fulfillment.order_id.in_(order_ids), visible)
        .order_by(Fulfillment.id))]
    pull_houses.export(rows, scope, actor=user.login_id, via="Order Query", at=at)
    fulfillment_items = _fulfillment_items([r["id"] for r in rows])
    terms = house_terms.served(rows, [i for group in fulfillment_items.values() for i in group])
    by_order = defaultdict(list)
    for row in rows:
        by_order[row["order_id"]].append(row)
    order_items = defaultdict(list)
    if rows:
        for item in db.session.execute(
                select(OrderItem.id, OrderItem.order_id, OrderItem.product_id, OrderItem.name,
                       OrderItem.sku, OrderItem.quantity, OrderItem.price,
                       OrderItem.fulfillment_id)
                .where(OrderItem.fulfillment_id.in_([r["id"] for r in rows]))
                .order_by(OrderItem.id)):
            order_items[item.order_id].append(item)
    data = [_order_wire(order, by_order[order.id], order_items[order.id], fulfillment_items,
                        scope, terms) for order in orders]
    return _page_message(total, page, per_page, data)


def _order_wire(order: Order, fulfillments: list[dict], items: list, fulfillment_items,
                scope: Scope, terms: house_terms.Terms) -> dict:
    first = fulfillments[0] if fulfillments else {}
    return {
        "orderId": _num(order.id),
        "clientOrderId": None,
        "dateCreated": _dt(order.created_at),
        "dateUpdated": _dt(order.updated_at),
        "orderStatus": "COMPLETE",
        "totalAmount": _num(order.total),
        "firstName": order.first_name, "lastName": order.last_name,
        "emailAddress": order.email, "phoneNumber": order.phone or None,
        "address1": order.address1, "address2": order.address2 or None, "city": order.city,
        "state": order.state or None, "postalCode": order.postal_code,
        "country": order.country,
        **_ship_to(lambda column: getattr(order, column)),
        "shipCarrier": first.get("carrier") or None,
        "shipMethod": first.get("ship_method") or None,
        "items": {str(i.id): {"productId": _num(i.product_id), "name": i.name,
                              "sku": terms.sku(i.fulfillment_id, i.sku),
                              "qty": _num(i.quantity), "price": _num(i.price)} for i in items},
        "fulfillments": [_fulfillment_wire(f, scope, fulfillment_items[f["id"]], terms)
                         for f in fulfillments],
    }


# ------------------------------------------------------------------ /fulfillment/update/


@bp.route("/fulfillment/update/", methods=["GET", "POST"])
def fulfillment_update():
    return _call("fulfillment_update", _fulfillment_update)


def _fulfillment_update(user: ApiUser, params) -> str:
    errors: dict[str, str] = {}
    fulfillment_id = _id(params, "fulfillmentId", errors)
    order_id = _id(params, "orderId", errors)
    if fulfillment_id is None and order_id is None and not errors:
        errors["fulfillmentId"] = REQUIRED
    status = _choice(params, "fulfillmentStatus", REPORTS, errors)
    if not status and "fulfillmentStatus" not in errors:
        errors["fulfillmentStatus"] = REQUIRED
    tracking = re.sub(r"\s+", "", _text(params, "trackingNumber", errors))
    carrier = _text(params, "shipCarrier", errors)
    method = _text(params, "shipMethod", errors)
    shipped = _date(params, "dateShipped", errors)
    returned = _date(params, "dateReturned", errors)
    rma = _text(params, "rmaNumber", errors)
    refund = _money(params, "refundAmount", errors)
    needs = {"SHIPPED": {"trackingNumber": tracking, "dateShipped": shipped},
             "RETURNED": {"dateReturned": returned},
             "RMA_PENDING": {"rmaNumber": rma, "refundAmount": refund}}.get(status, {})
    for name, value in needs.items():
        if value in (None, "") and name not in errors:
            errors[name] = REQUIRED
    today = now().date()
    for name, value in (("dateShipped", shipped), ("dateReturned", returned)):
        if value and value > today + timedelta(days=1):
            errors[name] = "must not be in the future"
    if errors:
        raise BadParameters(errors)
    at = now()
    ids = _targets(user, fulfillment_id, order_id, at)
    report = Report(status=status, tracking_number=tracking, carrier=carrier, ship_method=method,
                    shipped_at=datetime.combine(shipped, time()) if shipped else None,
                    returned_at=datetime.combine(returned, time()) if returned else None,
                    rma_number=rma, refund_amount=refund)
    pull_houses.apply_report(ids, report, actor=user.login_id, at=at)
    return "Fulfillment updated" if len(ids) == 1 else f"{len(ids)} fulfillments updated"


def _money(params, name: str, errors: dict) -> Decimal | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount > Decimal("99999999"):
        errors[name] = "must be an amount such as 19.99"
        return None
    return amount


def _targets(user: ApiUser, fulfillment_id: int | None, order_id: int | None,
             at: datetime) -> list[int]:
    """The fulfillments a call names, among those the user serves (another house's records
    are "not found", never "forbidden", so their existence is not revealed)."""
    scope = pull_houses.scope_of(user)
    where = [scope.visible(at)]
    if fulfillment_id is not None:
        where.append(Fulfillment.id == fulfillment_id)
    if order_id is not None:
        where.append(Fulfillment.order_id == order_id)
    if fulfillment_id is None:
        where.append(Fulfillment.status.in_(values(OPEN)))
    ids = list(db.session.scalars(select(Fulfillment.id).where(*where)
                                  .order_by(Fulfillment.id).limit(PAGE_MAX)))
    if not ids:
        raise NoMatch(NO_FULFILLMENT)
    return ids


# ------------------------------------------------------------------ description


@bp.route("/api/openapi.json")
def openapi():
    """The OpenAPI description of the three endpoints (public: it holds no secrets)."""
    return jsonify(openapi_document(request.url_root.rstrip("/"), api_auth.rate_limit()))
