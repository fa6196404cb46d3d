"""The ShipWorks Generic Module endpoint: how a real ShipWorks install downloads our orders.

ShipWorks POSTs ``action``, ``username`` and ``password`` (an API user's login ID and
password) and reads only HTTP 200 answers holding XML valid against ShipWorks1_0_0.xsd;
failures are ``<Error><Code/><Description/></Error>``, still with status 200.

Each fulfillment is one ShipWorks order: ``OrderNumber`` is the fulfillment id and
``LastModified`` its modified time as its house sees it (``pull_houses.modified_at``).
ShipWorks downloads by modified time: it asks for orders modified strictly after ``start``
(whole seconds), oldest first, ``maxcount`` at a time, and saves the latest
``LastModified`` it received as its next ``start``.

**Invariant: no record is ever skipped.** It rests on three rules:

1. *The served window ends before the current second*: no answer serves a record whose
   modified time is in the current, unfinished second (``_window_end``). Whatever is
   modified later, even a millisecond after a download, lands in this second or a later
   one, so strictly after any ``start`` ShipWorks can have saved.
2. *Becoming visible is a modification*: a record gets a modified time of the moment it
   becomes visible to the house: a Hold record's hold delay ends (its ``due_at``), its
   account is reactivated, it is resent or reassigned. So it is never older than a
   ``start`` saved while it was invisible.
3. *A page never ends inside a second*: a full page takes the whole group sharing its last
   ``LastModified`` second (beyond ``maxcount``), or ShipWorks would skip the rest.

Held records a download returns are handed over (Pending, ``date_exported``) and served
as Pending with the modified time they were selected by; the handover keeps that modified
time, since ShipWorks already has the record as it now is: each record reaches ShipWorks
once, and again only when it changes afterwards. (A write must commit within a second
of the time it stamps; every write here commits within its request.)
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from flask import Blueprint, Response, request
from lxml import etree
from sqlalchemy import and_, func, or_, select

from dashboard import status as rules
from dashboard.api import api_auth
from dashboard.clock import now
from dashboard.extensions import db
from dashboard.ids import parse_id, whole_number
from dashboard.models import ApiUser, Fulfillment, FulfillmentItem, Order
from dashboard.services import house_terms, pull_houses
from dashboard.services.pull_houses import Report, ReportRefused, Scope
from dashboard.status import Status

bp = Blueprint("shipworks", __name__, url_prefix="/shipworks")

MODULE_VERSION = "3.0.0"
SCHEMA_VERSION = "1.0.0"
PLATFORM = "CRM Fulfillment"
DEVELOPER = "CRM Fulfillment (support: your CRM administrator)"
DEFAULT_MAXCOUNT = 50
MAX_MAXCOUNT = 500
TRACKING_MAX = 64
#: statuses a ShipWorks user may set with updatestatus, and what they report
SETTABLE = {"CANCELLED", "DELIVERED", "RETURNED"}
#: statuses that need a shipment ShipWorks already uploaded; SHIPPED moves Pending Shipment
#: on to Shipped, so the next download serves ShipWorks the status it set
SHIPPED_WORDS = {"SHIPPED", "PENDING_SHIPMENT"}
ALREADY_SHIPPED = rules.EVER_SHIPPED
#: what getstatuscodes lists: exactly the codes updatestatus accepts
STATUS_CODES = [status for status in Status if status.wire in SHIPPED_WORDS | SETTABLE]


class ModuleError(Exception):
    """An answer of ``<Error>``: a short code for logs and a sentence ShipWorks shows."""

    def __init__(self, code: str, description: str):
        super().__init__(description)
        self.code = code
        self.description = description


#: characters XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE/U+FFFF)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _element(tag: str, text=None, **attrs) -> etree._Element:
    """An element whose text is made XML-safe (it may echo what a caller sent)."""
    element = etree.Element(tag, {k: str(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _NOT_XML.sub("\ufffd", str(text))
    return element


def _sub(parent, tag: str, text=None, **attrs) -> etree._Element:
    child = _element(tag, text, **attrs)
    parent.append(child)
    return child


def _answer(child: etree._Element) -> Response:
    root = etree.Element("ShipWorks", moduleVersion=MODULE_VERSION, schemaVersion=SCHEMA_VERSION)
    root.append(child)
    body = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    return Response(body, status=200, content_type="text/xml; charset=utf-8")


def _error(code: str, description: str) -> Response:
    error = _element("Error")
    _sub(error, "Code", code)
    _sub(error, "Description", description)
    return _answer(error)


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


# ------------------------------------------------------------------ the endpoint


@bp.route("/", methods=["GET", "POST"])
def module():
    """Every ShipWorks call: authenticate, run the action, answer XML with status 200."""
    action = (request.values.get("action") or "").strip().lower()
    handler, permission = ACTIONS.get(action, (None, None))
    user = None
    try:
        refused = api_auth.nul_fields(request.values)
        if refused:
            raise ModuleError("BAD_INPUT", f"{', '.join(refused)} must not contain a NUL "
                                           "character.")
        if handler is None:
            raise ModuleError("UNKNOWN_ACTION", f"Unknown action “{action[:40]}”.")
        try:
            user = api_auth.authenticate(request.values.get("username"),
                                         request.values.get("password"), permission)
        except api_auth.Refused as exc:
            raise ModuleError(exc.refusal.code, exc.refusal.message) from None
        response = _answer(handler(user))
    except ModuleError as exc:
        db.session.rollback()
        api_auth.log_call(f"shipworks:{action[:40]}", user, f"Error {exc.code}")
        return _error(exc.code, exc.description)
    except ReportRefused as exc:
        db.session.rollback()
        api_auth.log_call(f"shipworks:{action}", user, "Error REFUSED")
        return _error("REFUSED", str(exc))
    db.session.commit()
    api_auth.log_call(f"shipworks:{action}", user, "OK")
    return response


def _getmodule(_user: ApiUser):
    module = _element("Module")
    _sub(module, "Platform", PLATFORM)
    _sub(module, "Developer", DEVELOPER)
    capabilities = _sub(module, "Capabilities")
    _sub(capabilities, "DownloadStrategy", "ByModifiedTime")
    _sub(capabilities, "OnlineCustomerID", supported="false")
    _sub(capabilities, "OnlineStatus", supported="true", dataType="text",
         supportsComments="true")
    _sub(capabilities, "OnlineShipmentUpdate", supported="true")
    return module


def _getstore(user: ApiUser):
    scope = pull_houses.scope_of(user)
    store = _element("Store")
    _sub(store, "Name", ", ".join(scope.titles.values()) or user.login_id)
    return store


def _getstatuscodes(_user: ApiUser):
    codes = _element("StatusCodes")
    for status in STATUS_CODES:
        code = _sub(codes, "StatusCode")
        _sub(code, "Code", status.wire)
        _sub(code, "Name", status.label)
    return codes


def _start() -> datetime:
    """The first second ShipWorks has not seen: ``start`` + 1 s (``start`` is whole seconds,
    UTC, ``0001-01-01T00:00:00`` for a new store)."""
    raw = (request.values.get("start") or "").strip()
    if not raw:
        return datetime.min
    try:
        value = _utc(datetime.fromisoformat(raw))
    except (ValueError, OverflowError):
        raise ModuleError("BAD_START", f"start “{raw[:40]}” is not a date and time such as "
                                       "2026-11-02T09:00:00.") from None
    value = value.replace(microsecond=0)
    return value + timedelta(seconds=1) if value < datetime.max - timedelta(seconds=1) \
        else value


def _utc(value: datetime) -> datetime:
    """Naive UTC, as every time in the CRM is."""
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def _window_end(at: datetime) -> datetime:
    """Where the served window ends (exclusive): the start of the current second, so
    nothing modified in this unfinished second is served (rule 1 of the invariant)."""
    return at.replace(microsecond=0)


def _window(user: ApiUser, at: datetime) -> tuple[Scope, list]:
    """The user's scope and the conditions of the records ShipWorks may receive now."""
    scope = pull_houses.scope_of(user)
    modified, after = pull_houses.modified_at(), _start()
    return scope, [scope.visible(at), modified >= after, modified < _window_end(at),
                   # the same, in terms the indexes on updated_at and due_at can answer
                   or_(Fulfillment.updated_at >= after,
                       and_(Fulfillment.status == Status.HOLD.value,
                            Fulfillment.due_at >= after))]


def _getcount(user: ApiUser):
    _scope, window = _window(user, now())
    count = db.session.scalar(select(func.count()).select_from(Fulfillment).where(*window))
    return _element("OrderCount", count)


def _maxcount() -> int:
    raw = (request.values.get("maxcount") or "").strip()
    if not raw:
        return DEFAULT_MAXCOUNT
    if not whole_number(raw, 7) or int(raw) < 1:
        raise ModuleError("BAD_MAXCOUNT", "maxcount must be a whole number from 1.")
    return min(int(raw), MAX_MAXCOUNT)


def _getorders(user: ApiUser):
    size, at = _maxcount(), now()
    scope, window = _window(user, at)
    modified = pull_houses.modified_at()
    page = db.session.execute(
        select(Fulfillment.id, modified.label("modified")).where(*window)
        .order_by(modified, Fulfillment.id).limit(size)).all()
    orders = _element("Orders")
    if not page:
        return orders
    if len(page) == size:  # take the whole group sharing the last LastModified second
        window.append(modified < page[-1].modified.replace(microsecond=0)
                      + timedelta(seconds=1))
    else:
        window.append(modified <= page[-1].modified)
    rows = [dict(r._mapping) for r in db.session.execute(
        select(Fulfillment.id, Fulfillment.order_id, Fulfillment.house_account_id,
               Fulfillment.status, Fulfillment.reference, Fulfillment.ship_method,
               Fulfillment.carrier, modified.label("last_modified"),
               Order.created_at.label("ordered_at"), Order.first_name,
               Order.last_name, Order.address1, Order.address2, Order.city, Order.state,
               Order.postal_code, Order.country, Order.phone, Order.email)
        .join(Order, Order.id == Fulfillment.order_id).where(*window)
        .order_by(modified, Fulfillment.id))]
    handed_over = pull_houses.export(rows, scope, actor=user.login_id, via="ShipWorks", at=at,
                                     served_as={r["id"]: r["last_modified"] for r in rows})
    for row in rows:  # served as it now is: the house's, Pending
        if row["id"] in handed_over:
            row["status"] = Status.PENDING.value
    items: dict[int, list] = {}
    for item in db.session.execute(
            select(FulfillmentItem.id, FulfillmentItem.fulfillment_id, FulfillmentItem.product_id,
                   FulfillmentItem.name, FulfillmentItem.sku, FulfillmentItem.quantity,
                   FulfillmentItem.price)
            .where(FulfillmentItem.fulfillment_id.in_([r["id"] for r in rows]))
            .order_by(FulfillmentItem.id)):
        items.setdefault(item.fulfillment_id, []).append(item)
    terms = house_terms.served(rows, [i for group in items.values() for i in group])
    for row in rows:
        orders.append(_order(row, items.get(row["id"], []), terms))
    return orders


def _order(row: dict, items: list, terms: house_terms.Terms) -> etree._Element:
    order = _element("Order")
    _sub(order, "OrderNumber", row["id"])
    _sub(order, "OrderDate", _when(row["ordered_at"]))
    _sub(order, "LastModified", _when(row["last_modified"]))
    _sub(order, "ShippingMethod", row["ship_method"] or "Standard")
    _sub(order, "StatusCode", Status(row["status"]).wire)
    notes = _sub(order, "Notes")
    _sub(notes, "Note", f"CRM order {row['order_id']}, fulfillment {row['reference']}.")
    for tag in ("ShippingAddress", "BillingAddress"):
        order.append(_address(tag, row))
    lines = _sub(order, "Items")
    for item in items:
        line = _sub(lines, "Item")
        _sub(line, "ItemID", item.id)
        _sub(line, "ProductID", item.product_id)
        _sub(line, "Code", terms.sku(row["id"], item.sku))
        _sub(line, "SKU", terms.sku(row["id"], item.sku))
        _sub(line, "Name", item.name)
        _sub(line, "Quantity", item.quantity)
        _sub(line, "UnitPrice", f"{item.price:.2f}")
        _sub(line, "Weight", "0")
    _sub(order, "Totals")
    return order


def _address(tag: str, row: dict) -> etree._Element:
    """An Address in the schema's sequence order; empty optional parts are left out."""
    address = _element(tag)
    _sub(address, "FirstName", row["first_name"])
    _sub(address, "LastName", row["last_name"])
    for child, column in (("Street1", "address1"), ("Street2", "address2"), ("City", "city"),
                          ("State", "state"), ("PostalCode", "postal_code"),
                          ("Country", "country"), ("Phone", "phone"), ("Email", "email")):
        if row[column]:
            _sub(address, child, row[column])
    return address


def _fulfillment_for(user: ApiUser) -> tuple[int, Status]:
    """The fulfillment ``order`` names, if this user serves it (another house's is not
    found, so its existence is not revealed)."""
    raw = (request.values.get("order") or "").strip()
    if not whole_number(raw, 18):
        raise ModuleError("BAD_ORDER", "order must be the OrderNumber of a downloaded order.")
    fid = parse_id(raw)
    scope: Scope = pull_houses.scope_of(user)
    current = fid and db.session.scalar(select(Fulfillment.status).where(
        Fulfillment.id == fid, scope.visible(now())))
    if not current:
        raise ModuleError("NOT_FOUND", f"Order {raw} was not found.")
    return fid, Status(current)


def _updatestatus(user: ApiUser):
    fid, current = _fulfillment_for(user)
    code = (request.values.get("status") or "").strip().upper()
    comments = (request.values.get("comments") or "").strip()[:500]
    if code == "SHIPPED" and current is Status.PENDING_SHIPMENT:
        moved = rules.move_many([fid], Status.SHIPPED, source="api", actor=user.login_id,
                                detail="ShipWorks set status SHIPPED."
                                       + (f" {comments}" if comments else ""))
        if moved.refused:
            raise ModuleError("REFUSED", f"Order {fid} changed while it was being updated; "
                                         "try again.")
    elif code in SHIPPED_WORDS and current in ALREADY_SHIPPED:
        rules.record(fid, source="api", actor=user.login_id, status=current.value,
                     detail=f"ShipWorks set status {code}.{' ' + comments if comments else ''}")
    elif code in SHIPPED_WORDS:
        raise ModuleError("NO_TRACKING", f"Order {fid} has no shipment yet: upload the "
                                         "shipment (tracking number) from ShipWorks first.")
    elif code in SETTABLE:
        pull_houses.apply_report([fid], Report(status=code, comment=comments),
                                 actor=user.login_id, at=now())
    else:
        raise ModuleError("BAD_STATUS", f"Status “{code[:40]}” cannot be set from ShipWorks; "
                                        "use " + ", ".join(sorted(SETTABLE | SHIPPED_WORDS)) + ".")
    return _element("UpdateSuccess")


def _updateshipment(user: ApiUser):
    fid, _current = _fulfillment_for(user)
    tracking = "".join((request.values.get("tracking") or "").split())
    if not tracking:
        raise ModuleError("NO_TRACKING", "tracking is required.")
    if len(tracking) > TRACKING_MAX:
        raise ModuleError("BAD_TRACKING",
                          f"The tracking number is longer than {TRACKING_MAX} characters.")
    carrier = (request.values.get("carrier") or "").strip()[:40]
    _cost(request.values.get("shippingcost"))
    shipped_at = _shipping_date(request.values.get("shippingdate"))
    pull_houses.apply_report([fid], Report(status="SHIPPED", tracking_number=tracking,
                                           carrier="" if carrier.lower() == "other" else carrier,
                                           shipped_at=shipped_at),
                             actor=user.login_id, at=now())
    return _element("UpdateSuccess")


def _cost(raw: str | None) -> Decimal | None:
    """ShipWorks sends the label cost formatted by the machine's locale (7.45 or 7,45); we
    have no column for it but refuse nonsense."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"[0-9]{1,9}([.,][0-9]{1,6})?", raw):
        raise ModuleError("BAD_COST", "shippingcost must be an amount such as 7.45 or 7,45.")
    return Decimal(raw.replace(",", "."))


def _shipping_date(raw: str | None) -> datetime | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    for parse in (datetime.fromisoformat, lambda v: datetime.strptime(v, "%m/%d/%Y")):
        try:
            return _utc(parse(raw))
        except (ValueError, OverflowError):
            continue
    raise ModuleError("BAD_DATE", f"shippingdate “{raw[:40]}” is not a date such as "
                                  "2026-11-02T09:00:00.")


#: action → (handler, the ApiUser permission it needs; None: any valid API user)
ACTIONS = {
    "getmodule": (_getmodule, None),
    "getstore": (_getstore, None),
    "getstatuscodes": (_getstatuscodes, None),
    "getcount": (_getcount, "fulfillment_query"),
    "getorders": (_getorders, "fulfillment_query"),
    "updatestatus": (_updatestatus, "fulfillment_update"),
    "updateshipment": (_updateshipment, "fulfillment_update"),
}
