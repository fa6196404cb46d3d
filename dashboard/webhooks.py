"""House webhook routes: ShipStation, ShipBob and ShipMonk tell us about their shipments.

Each route first proves the call comes from the account's house (the secret token in the
URL for all three, then ShipBob's Standard-Webhooks signature or ShipMonk's Basic auth),
then applies the event once: its id is stored in ``WebhookEvent`` (unique per source and
account) in the same transaction as the change it makes, so a repeat finds it and changes
nothing. A call that cannot be proven, cannot be read or names no order of the account gets
a 4xx and changes nothing; an address that keeps failing to prove itself on a route
(``WEBHOOK_AUTH_FAILURE_LIMIT``) is turned away with a 429 before any check. Tracking goes
through ``tracking.record_packages`` and every status change through the status rules.
Polling stays the fallback for anything a webhook misses.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any, Callable

from flask import Blueprint, current_app, jsonify, request, url_for
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from adapters import HOUSES
from adapters.base import AdapterError, TrackingInfo
from adapters.http import ForeignURL
from dashboard import credentials, failure_counts
from dashboard import status as rules
from dashboard.clock import now
from dashboard.extensions import db
from dashboard.house_accounts import adapter_for
from dashboard.models import Fulfillment, HouseAccount, Shipment, WebhookEvent
from dashboard.outbound import BaseURLRefused
from dashboard.status import Status
from dashboard.tracking import record_packages

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
log = logging.getLogger(__name__)

#: the timeline's name for changes made here
SOURCE = "webhook"
#: ShipStation resource types that list shipped packages; others are acknowledged, unused
SHIPSTATION_SHIPPED = ("SHIP_NOTIFY", "FULFILLMENT_SHIPPED")
SHIPBOB_TOPICS = ("order.shipped", "order.shipment.delivered", "order.shipment.exception",
                  "order.shipment.cancelled")
REPEAT = "Already applied; nothing changed."


class Refused(Exception):
    """The call is answered with ``status`` and changes nothing."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@bp.errorhandler(Refused)
def _refused(exc: Refused):
    db.session.rollback()
    return jsonify(ok=False, error=exc.message), exc.status


@bp.errorhandler(BaseURLRefused)
def _base_url_refused(exc: BaseURLRefused):
    """The account points at a host the outbound policy refuses: its client cannot be
    used, for checking a delivery either; the house retries once the account is fixed."""
    db.session.rollback()
    return jsonify(ok=False, error=f"This account cannot be used: {exc}"), 503


def _ok(outcome: str):
    return jsonify(ok=True, outcome=outcome)


#: what to do in each house so it posts to our route
SETUP = {
    "shipstation": "In ShipStation, subscribe this URL to the “On Items Shipped” "
                   "(SHIP_NOTIFY) event, and to FULFILLMENT_SHIPPED if your warehouse "
                   "marks orders shipped from its own system (Settings → Integrations "
                   "→ Webhooks, or POST /webhooks/subscribe).",
    "shipbob": "In ShipBob, subscribe this URL to order.shipped, order.shipment.delivered, "
               "order.shipment.exception and order.shipment.cancelled, then copy the "
               "subscription's whsec_… secret into this account's Webhook signing "
               "secrets.",
    "shipmonk": "In ShipMonk, enter this URL as the store's Shipment Notification URL, "
                "with the webhook user name and password set on this account.",
}
#: credential fields a route needs before it accepts anything
NEEDS = {"shipbob": ("webhook_secrets",), "shipmonk": ("webhook_username", "webhook_password")}


@bp.app_context_processor
def _webhook_setup():
    return {"webhook_setup": webhook_setup}


def webhook_setup(account: HouseAccount) -> dict[str, Any] | None:
    """What the account page shows for pointing the house at us: the URL to paste, what
    to do in the house, and whether a credential the route checks is still missing.
    None for a house without a webhook route here."""
    kind = account.adapter_class.webhook_kind
    if kind not in SETUP:
        return None
    stored = credentials.decrypt(account.credentials_encrypted) if kind in NEEDS else {}
    missing = [name for name in NEEDS.get(kind, ()) if not stored.get(name)]
    return {"url": url_for(f"webhooks.{kind}", token=account.webhook_token, _external=True),
            "help": SETUP[kind], "ready": not missing}


# ------------------------------------------------------------------ routes


@bp.post("/shipstation/<token>")
def shipstation(token: str):
    """ShipStation's SHIP_NOTIFY and FULFILLMENT_SHIPPED: the body is only
    ``{"resource_url", "resource_type"}``; the resource is read with the account's own
    credentials, and only on the account's API host.

    :raise 404: no ShipStation account has this token
    :raise 400: unreadable body, or a resource URL on another host (nothing is fetched)
    :raise 502: ShipStation did not give the resource
    """
    account = _account("shipstation", token)
    body = _json_object(request.get_data())
    url, kind = body.get("resource_url"), body.get("resource_type")
    if not isinstance(url, str) or not url or not isinstance(kind, str):
        raise Refused(400, "resource_url and resource_type are required.")
    if kind not in SHIPSTATION_SHIPPED:
        return _ok(f"{kind} notifications are not used here; nothing changed.")
    event_id = "resource:" + hashlib.sha256(url.encode()).hexdigest()
    if _seen("shipstation", account.id, event_id):
        return _ok(REPEAT)
    adapter, account_id, title = adapter_for(account), account.id, account.title
    db.session.rollback()  # hold no transaction while ShipStation answers
    try:
        infos = adapter.shipped_in(url)
    except ForeignURL as exc:
        raise Refused(400, str(exc)) from None
    except AdapterError as exc:
        raise Refused(502, f"ShipStation did not give the resource: {exc}") from None
    found = _fulfillments(account_id, infos)
    if not found:
        raise Refused(404, "The resource lists no shipped order of this account.")
    return _apply_once("shipstation", event_id, account_id, found,
                       lambda: _record(found, title))


@bp.post("/shipbob/<token>")
def shipbob(token: str):
    """ShipBob's signed webhooks: ``order.shipped`` (which may come without tracking:
    then nothing moves and polling stays the fallback), ``order.shipment.delivered``,
    ``order.shipment.exception`` and ``order.shipment.cancelled``.

    :raise 404: no ShipBob account has this token
    :raise 401: bad or missing signature, or a timestamp outside five minutes
    :raise 400: unreadable body or no topic
    """
    account = _account("shipbob", token)
    adapter = adapter_for(account)
    raw = request.get_data()
    problem = adapter.verify_webhook(request.headers, raw)
    if problem:
        raise _unproven("shipbob", 401, problem)
    body = _json_object(raw)
    topic = request.headers.get("x-webhook-topic")
    if not topic:
        raise Refused(400, "The x-webhook-topic header is missing.")
    if topic not in SHIPBOB_TOPICS:
        return _ok(f"{topic} events are not used here; nothing changed.")
    event_id = request.headers["webhook-id"][:200]
    if _seen("shipbob", account.id, event_id):
        return _ok(REPEAT)
    info = _read(adapter.webhook_tracking, body, "a ShipBob order or shipment")
    if not _read(lambda b: adapter.body_says(topic, b), body, "a ShipBob event"):
        raise Refused(400, f"The x-webhook-topic header says {topic}, but the signed body is "
                           "not such an event; nothing changed.")
    found = _fulfillments(account.id, [info])
    if not found:
        raise Refused(404, "The event names no order of this account.")
    [(fid, info)] = found.items()
    title = account.title
    shipment_id = body.get("id") if "shipments" not in body else None
    apply: Callable[[], str] = {
        "order.shipped": lambda: _record(found, title) if info.packages else (
            "ShipBob reported the order shipped without tracking; polling will fetch it."),
        "order.shipment.delivered": lambda: _deliver(fid, info, title),
        "order.shipment.exception": lambda: _exception(fid, body, title),
        "order.shipment.cancelled": lambda: _cancel(fid, shipment_id, title),
    }[topic]
    return _apply_once("shipbob", event_id, account.id, found, apply)


@bp.post("/shipmonk/<token>")
def shipmonk(token: str):
    """ShipMonk's Shipment Notification: one call per shipment, one tracking number per
    package, proven by the HTTP Basic auth set on the account.

    :raise 404: no ShipMonk account has this token
    :raise 401: wrong or missing Basic auth
    :raise 400: unreadable body, no order key or no tracked package
    """
    account = _account("shipmonk", token)
    adapter = adapter_for(account)
    auth = request.authorization
    if auth is None or auth.type != "basic" or not adapter.webhook_auth_ok(
            auth.username or "", auth.password or ""):
        raise _unproven("shipmonk", 401, "The Basic auth user name or password is wrong.")
    body = _json_object(request.get_data())
    info = _read(adapter.notification_tracking, body, "a ShipMonk shipment notification")
    if not (info.key or info.house_reference) or not info.packages:
        raise Refused(400, "The notification needs order_key and packages with tracking "
                           "numbers.")
    numbers = ",".join(sorted(p.tracking_number for p in info.packages))
    event_id = (f"shipment:{body['shipment_id']}" if body.get("shipment_id") else
                "packages:" + hashlib.sha256(f"{info.key}|{numbers}".encode()).hexdigest())
    if _seen("shipmonk", account.id, event_id):
        return _ok(REPEAT)
    found = _fulfillments(account.id, [info])
    if not found:
        raise Refused(404, "The notification names no order of this account.")
    title = account.title
    return _apply_once("shipmonk", event_id, account.id, found, lambda: _record(found, title))


# ------------------------------------------------------------------ proving and reading


def _unproven(kind: str, status: int, message: str) -> Refused:
    """A failed authentication on route ``kind``: counted against the caller's address."""
    failure_counts.count(current_app.config["WEBHOOK_AUTH_FAILURE_LIMIT"], "webhook-auth",
                         kind, request.remote_addr or "")
    return Refused(status, message)


def _account(kind: str, token: str) -> HouseAccount:
    """The account whose house posts to route ``kind`` and whose webhook token is
    ``token``. Every candidate's token is compared, in constant time.

    :raise Refused: 429 when this address failed too often on the route, 404 when no
        account matches
    """
    wait = failure_counts.exceeded(current_app.config["WEBHOOK_AUTH_FAILURE_LIMIT"],
                                   "webhook-auth", kind, request.remote_addr or "")
    if wait is not None:
        raise Refused(429, f"Too many failed authentications from this address; try again in "
                           f"{wait} seconds.")
    keys = [key for key, cls in HOUSES.items() if cls.webhook_kind == kind]
    found = None
    for account in db.session.scalars(select(HouseAccount)
                                      .where(HouseAccount.adapter_key.in_(keys))):
        if hmac.compare_digest(account.webhook_token.encode(), token.encode()):
            found = account
    if found is None:
        raise _unproven(kind, 404, "No such webhook.")
    return found


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        raise Refused(400, "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise Refused(400, "The body is not a JSON object.")
    return body


#: the longest text each package field may hold (the columns it is stored in)
PACKAGE_LIMITS = {"tracking_number": 64, "carrier": 40, "ship_method": 80}


def _read(parse: Callable[[dict[str, Any]], Any], body: dict[str, Any], what: str):
    """``parse(body)``, a body of the wrong shape (a list where an object belongs, a
    number where a date does, a tracking number or carrier that is not a short text)
    being a 400."""
    try:
        result = parse(body)
    except (AttributeError, TypeError, KeyError, ValueError):
        raise Refused(400, f"The body is not {what}.") from None
    for package in result.packages if isinstance(result, TrackingInfo) else ():
        for name, limit in PACKAGE_LIMITS.items():
            value = getattr(package, name)
            if not isinstance(value, str) or len(value) > limit:
                raise Refused(400, f"The body is not {what}: {name} must be a text of at "
                                   f"most {limit} characters.")
    return result


def _seen(source: str, account_id: int, event_id: str) -> bool:
    """Whether this account already has this event (another account's event with the same
    id is a different delivery)."""
    return db.session.scalar(select(WebhookEvent.id).where(
        WebhookEvent.source == source, WebhookEvent.house_account_id == account_id,
        WebhookEvent.event_id == event_id)) is not None


def _fulfillments(account_id: int, infos: list[TrackingInfo]) -> dict[int, TrackingInfo]:
    """The account's fulfillments ``infos`` are about, by our key (the house's copy of our
    reference) or else the house's own order id; packages of one fulfillment merged."""
    keys = {i.key for i in infos if i.key}
    references = {i.house_reference for i in infos if i.house_reference}
    if not (keys or references):
        return {}
    rows = db.session.execute(
        select(Fulfillment.id, Fulfillment.reference, Fulfillment.house_reference)
        .where(Fulfillment.house_account_id == account_id,
               or_(Fulfillment.reference.in_(keys),
                   Fulfillment.house_reference.in_(references)))).all()
    by_key = {r.reference: r.id for r in rows}
    by_reference = {r.house_reference: r.id for r in rows if r.house_reference}
    found: dict[int, TrackingInfo] = {}
    for info in infos:
        fid = by_key.get(info.key) or by_reference.get(info.house_reference)
        if fid is None:
            continue
        earlier = found.get(fid)
        packages = {p.tracking_number: p for p in (earlier.packages if earlier else ())}
        for package in info.packages:
            packages.setdefault(package.tracking_number, package)
        found[fid] = TrackingInfo(info.key, info.house_reference, tuple(packages.values()))
    return found


def _apply_once(source: str, event_id: str, account_id: int, found: dict[int, TrackingInfo],
                apply: Callable[[], str]):
    """Store the event, apply it and commit both together; a repeat that raced past
    ``_seen`` meets the unique constraint and changes nothing."""
    event = WebhookEvent(source=source, event_id=event_id[:200], house_account_id=account_id,
                         fulfillment_id=next(iter(found)) if len(found) == 1 else None,
                         received_at=now())
    db.session.add(event)
    try:
        db.session.flush()
        event_row = event.id
        outcome = apply()
        db.session.execute(update(WebhookEvent).where(WebhookEvent.id == event_row)
                           .values(outcome=outcome[:2000]))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if _seen(source, account_id, event_id[:200]):
            return _ok(REPEAT)
        raise Refused(409, "Another update of this order was being saved; send it again.")
    log.info("webhook %s %s for account %s: %s", source, event_id[:80], account_id, outcome)
    return _ok(outcome)


# ------------------------------------------------------------------ applying


def _record(found: dict[int, TrackingInfo], actor: str) -> str:
    """Tracking numbers move their records to Pending Shipment."""
    result = record_packages(found, source=SOURCE, actor=actor, at=now())
    parts = [f"{len(result.moved)} moved to Pending Shipment"]
    if result.unchanged:
        parts.append(f"{len(result.unchanged)} already past it")
    if result.refused:
        parts.append(f"{len(result.refused)} refused by the status rules")
    numbers = ", ".join(p.tracking_number for info in found.values() for p in info.packages)
    return f"Tracking {numbers}: " + "; ".join(parts) + "."


def _status(fid: int) -> str:
    return db.session.scalar(select(Fulfillment.status).where(Fulfillment.id == fid))


def _deliver(fid: int, info: TrackingInfo, actor: str) -> str:
    """The house's own delivery information: its packages are delivered (recorded first
    if we had not heard of them), and the record moves to Delivered once all are."""
    if not info.packages:
        return "ShipBob reported a delivery without tracking; nothing changed."
    at = now()
    numbers = [p.tracking_number for p in info.packages]
    known = set(db.session.scalars(select(Shipment.tracking_number).where(
        Shipment.fulfillment_id == fid, Shipment.tracking_number.in_(numbers))))
    if set(numbers) - known:
        record_packages({fid: info}, source=SOURCE, actor=actor, at=at)
    delivered_at = max(p.delivered_at or at for p in info.packages)
    db.session.execute(update(Shipment).where(
        Shipment.fulfillment_id == fid, Shipment.tracking_number.in_(numbers)).values(
        carrier_status="delivered", status_source="house", delivered_at=delivered_at,
        done=True, carrier_detail="Delivered, according to ShipBob."))
    states = set(db.session.scalars(select(Shipment.carrier_status)
                                    .where(Shipment.fulfillment_id == fid)))
    detail = f"ShipBob delivered {', '.join(numbers)}."
    target = Status.DELIVERED if states == {"delivered"} else Status.SHIPPED
    if target is Status.SHIPPED and _status(fid) != Status.PENDING_SHIPMENT.value:
        return detail + " Other packages are still on their way."
    try:
        moved = rules.move(fid, target, source=SOURCE, actor=actor, detail=detail,
                           values={"delivered_at": delivered_at}
                           if target is Status.DELIVERED else None)
    except rules.RefusedMove as exc:
        return f"{detail} {exc}"
    return f"{detail} {'Moved to' if moved else 'Already'} {target.label}."


def _exception(fid: int, shipment: dict[str, Any], actor: str) -> str:
    """A shipment in exception: a note for support; the status stays."""
    reasons = [d.get("description") or d.get("name") or "" for d in
               shipment.get("status_details") or () if isinstance(d, dict)]
    what = "; ".join(r for r in reasons if r) or "no reason given"
    note = f"ShipBob shipment {shipment.get('id', '?')} is in exception: {what}"
    db.session.execute(update(Fulfillment).where(Fulfillment.id == fid)
                       .values(carrier_exception=note[:2000]))
    rules.record(fid, source=SOURCE, actor=actor, detail=note[:1000], status=_status(fid))
    return note


def _cancel(fid: int, shipment_id: Any, actor: str) -> str:
    """A cancelled shipment cancels a record the house has not shipped; a shipped one is
    only noted on its timeline."""
    detail = f"ShipBob cancelled shipment {shipment_id or '?'}."
    try:
        moved = rules.move(fid, Status.CANCELLED, source=SOURCE, actor=actor, detail=detail)
    except rules.RefusedMove as exc:
        rules.record(fid, source=SOURCE, actor=actor, detail=f"{detail} {exc}",
                     status=exc.current.value)
        return f"{detail} {exc}"
    return f"{detail} {'Moved to Cancelled' if moved else 'Already cancelled'}."
