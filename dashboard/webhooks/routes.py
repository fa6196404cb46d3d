"""House webhook routes, one per ``WebhookSpec`` a house declares:
``/webhooks/<kind>/<account token>``.

Each call is first proven to come from the account's house (the secret token in the URL,
then whatever the house's reader checks: ShipBob's Standard-Webhooks signature, ShipMonk's
Basic auth), then applied once: its id is stored in ``WebhookEvent`` (unique per source and
account) in the same transaction as the change it makes, so a repeat finds it and changes
nothing. A call that cannot be proven, cannot be read or names no order of the account gets a
4xx and changes nothing; an address that keeps failing to prove itself on a route
(``WEBHOOK_AUTH_FAILURE_LIMIT``) is turned away with a 429 before any check. Tracking goes
through ``tracking.record_packages``, deliveries through ``tracking.settle`` (the one
delivery rule), every status change through the status rules. Polling stays the fallback
for anything a webhook misses.
"""
from __future__ import annotations

import hmac
import logging
from functools import partial
from typing import Any, Callable

from flask import Blueprint, current_app, jsonify, request, url_for
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from adapters import by_webhook, get_house, webhook_specs
from adapters.base import TrackingInfo, WebhookAction, WebhookCall, WebhookRefused
from dashboard import credentials
from dashboard import status as rules
from dashboard.clock import now
from dashboard.extensions import db
from dashboard.models import Fulfillment, HouseAccount, Shipment, WebhookEvent
from dashboard.services import failure_counts
from dashboard.services.house_accounts import adapter_for
from dashboard.services.house_problems import apply_problems
from dashboard.services.outbound import BaseURLRefused
from dashboard.services.tracking import record_packages, settle
from dashboard.status import Status

log = logging.getLogger(__name__)

#: the timeline's name for changes made here
SOURCE = "webhook"
REPEAT = "Already applied; nothing changed."


def blueprint() -> Blueprint:
    """The webhook blueprint with a route for every webhook the registered houses declare
    (built per app, so a house registered before ``create_app`` gets its route)."""
    bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
    for kind in webhook_specs():
        bp.add_url_rule(f"/{kind}/<token>", endpoint=kind, view_func=receive,
                        defaults={"kind": kind}, methods=["POST"])
    bp.register_error_handler(WebhookRefused, _refused)
    bp.register_error_handler(BaseURLRefused, _base_url_refused)
    bp.app_context_processor(_webhook_setup)
    return bp


def _refused(exc: WebhookRefused):
    db.session.rollback()
    return jsonify(ok=False, error=exc.message), exc.status


def _base_url_refused(exc: BaseURLRefused):
    """The account points at a host the outbound policy refuses: its client cannot be
    used, for checking a delivery either; the house retries once the account is fixed."""
    db.session.rollback()
    return jsonify(ok=False, error=f"This account cannot be used: {exc}"), 503


def _ok(outcome: str):
    return jsonify(ok=True, outcome=outcome)


def _webhook_setup():
    return {"webhook_setup": webhook_setup}


def webhook_setup(account: HouseAccount) -> dict[str, Any] | None:
    """What the account page shows for pointing the house at us: the URL to paste, what
    to do in the house, and whether a credential the route checks is still missing.
    None for a house without a webhook."""
    spec = get_house(account.adapter_key).webhook
    if spec is None:
        return None
    stored = credentials.decrypt(account.credentials_encrypted) if spec.needs else {}
    missing = [name for name in spec.needs if not stored.get(name)]
    return {"url": url_for(f"webhooks.{spec.kind}", token=account.webhook_token,
                           _external=True),
            "help": spec.setup, "ready": not missing}


# ------------------------------------------------------------------ the route


def receive(kind: str, token: str):
    """One call to the webhook route ``kind``: proven and read by the house's declared
    reader, then applied once.

    :raise 429: this address failed to prove itself too often on the route
    :raise 404: no account of a house posting to ``kind`` has this token, or the call
        names no order of the account
    :raise 401, 400, 502: what the house's reader refuses (a bad signature or Basic auth,
        an unreadable body, a house that did not give what the call points at)
    """
    account = _account(kind, token)
    adapter = adapter_for(account)
    try:
        call = account.adapter_class.webhook.read(adapter, request.headers, request.get_data())
    except WebhookRefused as exc:
        raise (_unproven(kind, exc) if exc.status == 401 else exc) from None
    if call.action is WebhookAction.IGNORED:
        return _ok(call.note)
    if _seen(kind, account.id, call.event_id):
        return _ok(REPEAT)
    account_id, title, house = account.id, account.title, adapter.name
    db.session.rollback()  # hold no transaction while the house answers
    found = _fulfillments(account_id, call.tracking())
    if not found:
        raise WebhookRefused(404, call.not_ours)
    if call.action is WebhookAction.TRACKING and not any(
            info.packages or info.problem for info in found.values()):
        return _ok(call.note)  # nothing to apply, so nothing to remember
    return _apply_once(kind, call.event_id, account_id, found,
                       partial(_apply, call, found, title, house))


def _apply(call: WebhookCall, found: dict[int, TrackingInfo], actor: str, house: str) -> str:
    if call.action is WebhookAction.TRACKING:
        return _record(found, actor)
    outcomes = []
    for fid, info in found.items():
        if call.action is WebhookAction.DELIVERED:
            outcomes.append(_deliver(fid, info, actor, house))
        elif call.action is WebhookAction.EXCEPTION:
            outcomes.append(_record({fid: info}, actor) if info.problem
                            else _exception(fid, call.note, actor))
        else:
            outcomes.append(_cancel(fid, call.note, actor))
    return " ".join(outcomes)


# ------------------------------------------------------------------ proving and reading


def _unproven(kind: str, refusal: WebhookRefused) -> WebhookRefused:
    """A failed authentication on route ``kind``: counted against the caller's address."""
    failure_counts.count(current_app.config["WEBHOOK_AUTH_FAILURE_LIMIT"], "webhook-auth",
                         kind, request.remote_addr or "")
    return refusal


def _account(kind: str, token: str) -> HouseAccount:
    """The account whose house posts to route ``kind`` and whose webhook token is
    ``token``. Every candidate's token is compared, in constant time.

    :raise WebhookRefused: 429 when this address failed too often on the route, 404 when
        no account matches
    """
    wait = failure_counts.exceeded(current_app.config["WEBHOOK_AUTH_FAILURE_LIMIT"],
                                   "webhook-auth", kind, request.remote_addr or "")
    if wait is not None:
        raise WebhookRefused(429, "Too many failed authentications from this address; try "
                                  f"again in {wait} seconds.")
    found = None
    for account in db.session.scalars(select(HouseAccount).where(
            HouseAccount.adapter_key.in_(by_webhook(kind)))):
        if hmac.compare_digest(account.webhook_token.encode(), token.encode()):
            found = account
    if found is None:
        raise _unproven(kind, WebhookRefused(404, "No such webhook."))
    return found


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
        found[fid] = TrackingInfo(info.key, info.house_reference, tuple(packages.values()),
                                  problem=info.problem or (earlier.problem if earlier else None))
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
        raise WebhookRefused(409, "Another update of this order was being saved; send it "
                                  "again.") from None
    log.info("webhook %s %s for account %s: %s", source, event_id[:80], account_id, outcome)
    return _ok(outcome)


# ------------------------------------------------------------------ applying


def _record(found: dict[int, TrackingInfo], actor: str) -> str:
    """Tracking numbers move their records to Pending Shipment; an order the house
    reports a problem with instead is failed or held (``house_problems``)."""
    problems = {fid: i.problem for fid, i in found.items() if i.problem and not i.packages}
    shipped = {fid: i for fid, i in found.items() if i.packages}
    said = apply_problems(problems, source=SOURCE, actor=actor)[1] if problems else ""
    return " ".join(filter(None, (said, _record_packages(shipped, actor) if shipped else ""))) \
        or "The house reports these orders moving normally; nothing changed."


def _record_packages(found: dict[int, TrackingInfo], actor: str) -> str:
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


def _deliver(fid: int, info: TrackingInfo, actor: str, house: str) -> str:
    """The house's own delivery information: its packages are delivered (recorded first
    if we had not heard of them), and the record settles as polling would settle it."""
    if not info.packages:
        return f"{house} reported a delivery without tracking; nothing changed."
    at = now()
    numbers = [p.tracking_number for p in info.packages]
    known = set(db.session.scalars(select(Shipment.tracking_number).where(
        Shipment.fulfillment_id == fid, Shipment.tracking_number.in_(numbers))))
    if set(numbers) - known:
        record_packages({fid: info}, source=SOURCE, actor=actor, at=at)
    db.session.execute(update(Shipment).where(
        Shipment.fulfillment_id == fid, Shipment.tracking_number.in_(numbers)).values(
        carrier_status="delivered", status_source="house", done=True,
        delivered_at=max(p.delivered_at or at for p in info.packages),
        carrier_detail=f"Delivered, according to {house}."))
    detail = f"{house} delivered {', '.join(numbers)}."
    settled = settle({fid}, at, source=SOURCE, actor=actor, details={fid: detail})[fid]
    if settled.refusal is not None:
        return f"{detail} {settled.refusal.sentence(fid, settled.target)}"
    if settled.moved:
        return f"{detail} Moved to {settled.target.label}."
    if settled.target is Status.SHIPPED:
        return detail + " Other packages are still on their way."
    return f"{detail} Already {settled.target.label}."


def _exception(fid: int, note: str, actor: str) -> str:
    """A shipment in exception: a note for support; the status stays."""
    db.session.execute(update(Fulfillment).where(Fulfillment.id == fid)
                       .values(carrier_exception=note[:2000]))
    rules.record(fid, source=SOURCE, actor=actor, detail=note[:1000], status=_status(fid))
    return note


def _cancel(fid: int, detail: str, actor: str) -> str:
    """A cancelled shipment cancels a record the house has not shipped; a shipped one is
    only noted on its timeline."""
    try:
        moved = rules.move(fid, Status.CANCELLED, source=SOURCE, actor=actor, detail=detail)
    except rules.RefusedMove as exc:
        rules.record(fid, source=SOURCE, actor=actor, detail=f"{detail} {exc}",
                     status=exc.current.value)
        return f"{detail} {exc}"
    return f"{detail} {'Moved to Cancelled' if moved else 'Already cancelled'}."
