"""How the houses' webhook calls are proven and read: plain functions over the account's
adapter, the request headers and the raw body (no Flask, no database). Each house's
``WebhookSpec`` names its reader; the dashboard's webhook routes call it, then record
what the call reports (``dashboard.webhooks``)."""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any, Callable, Mapping

from adapters.base import (
    AdapterError,
    TrackingInfo,
    WebhookAction,
    WebhookCall,
    WebhookRefused,
    WebhookSpec,
)
from adapters.http import ForeignURL

#: what a house module needs for its ``webhook = WebhookSpec(..., read=...)`` declaration
__all__ = ["WebhookSpec", "basic_auth", "json_object", "parsed", "read_shipbob",
           "read_shipmonk", "read_shipstation"]


def json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object. :raise WebhookRefused: 400 for anything else"""
    try:
        body = json.loads(raw)
    except ValueError:
        raise WebhookRefused(400, "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise WebhookRefused(400, "The body is not a JSON object.")
    return body


#: the longest text each package field may hold (the dashboard columns it is stored in)
PACKAGE_LIMITS = {"tracking_number": 64, "carrier": 40, "ship_method": 80}


def parsed(parse: Callable[[dict[str, Any]], Any], body: dict[str, Any], what: str):
    """``parse(body)``, a body of the wrong shape (a list where an object belongs, a number
    where a date does, a tracking number or carrier that is not a short text) being a 400."""
    try:
        result = parse(body)
    except (AttributeError, TypeError, KeyError, ValueError):
        raise WebhookRefused(400, f"The body is not {what}.") from None
    for package in result.packages if isinstance(result, TrackingInfo) else ():
        for name, limit in PACKAGE_LIMITS.items():
            value = getattr(package, name)
            if not isinstance(value, str) or len(value) > limit:
                raise WebhookRefused(400, f"The body is not {what}: {name} must be a text of "
                                          f"at most {limit} characters.")
    return result


def basic_auth(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """The user name and password of an ``Authorization: Basic`` header, or None."""
    scheme, _, value = (headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(
            ":")
    except (binascii.Error, ValueError):
        return None
    return (user, password) if sep else None


def _topics(adapter) -> tuple[str, ...]:
    return type(adapter).webhook.topics


def read_shipstation(adapter, headers: Mapping[str, str], raw: bytes) -> WebhookCall:
    """SHIP_NOTIFY, FULFILLMENT_SHIPPED and FULFILLMENT_REJECTED: the body is only
    ``{"resource_url", "resource_type"}`` (the secret token in the URL is the only proof);
    the resource is read with the account's own credentials, and only on the account's API
    host or ShipStation's own."""
    body = json_object(raw)
    url, kind = body.get("resource_url"), body.get("resource_type")
    if not isinstance(url, str) or not url or not isinstance(kind, str):
        raise WebhookRefused(400, "resource_url and resource_type are required.")
    if kind not in _topics(adapter):
        return WebhookCall("", WebhookAction.IGNORED,
                           note=f"{kind} notifications are not used here; nothing changed.")

    def tracking() -> list[TrackingInfo]:
        try:
            return adapter.notified_in(url)
        except ForeignURL as exc:
            raise WebhookRefused(400, str(exc)) from None
        except AdapterError as exc:
            raise WebhookRefused(502, f"ShipStation did not give the resource: {exc}") from None

    return WebhookCall("resource:" + hashlib.sha256(url.encode()).hexdigest(),
                       WebhookAction.TRACKING, tracking,
                       not_ours="The resource lists no order of this account.")


#: what each ShipBob topic reports
SHIPBOB_ACTIONS = {"order.shipped": WebhookAction.TRACKING,
                   "order.shipment.delivered": WebhookAction.DELIVERED,
                   "order.shipment.exception": WebhookAction.EXCEPTION,
                   "order.shipment.on_hold": WebhookAction.EXCEPTION,
                   "order.shipment.cancelled": WebhookAction.CANCELLED}


def read_shipbob(adapter, headers: Mapping[str, str], raw: bytes) -> WebhookCall:
    """ShipBob's Standard-Webhooks-signed calls: ``order.shipped`` (which may come without
    tracking: then nothing moves and polling stays the fallback), and a shipment's
    ``delivered``, ``exception`` and ``cancelled``. The topic comes from the unsigned
    ``x-webhook-topic`` header, so the signed body must be such an event
    (``ShipBobHouse.body_says``): a captured delivery replayed under another topic is a 400."""
    problem = adapter.verify_webhook(headers, raw)
    if problem:
        raise WebhookRefused(401, problem)
    body = json_object(raw)
    topic = headers.get("x-webhook-topic")
    if not topic:
        raise WebhookRefused(400, "The x-webhook-topic header is missing.")
    if topic not in _topics(adapter):
        return WebhookCall("", WebhookAction.IGNORED,
                           note=f"{topic} events are not used here; nothing changed.")
    action = SHIPBOB_ACTIONS[topic]
    info = parsed(adapter.webhook_tracking, body, "a ShipBob order or shipment")
    if not parsed(lambda b: adapter.body_says(topic, b), body, "a ShipBob event"):
        raise WebhookRefused(400, f"The x-webhook-topic header says {topic}, but the signed "
                                  "body is not such an event; nothing changed.")
    note = "ShipBob reported the order shipped without tracking; polling will fetch it."
    if action is WebhookAction.EXCEPTION:
        reasons = [d.get("description") or d.get("name") or "" for d in
                   body.get("status_details") or () if isinstance(d, dict)]
        what = "; ".join(r for r in reasons if r) or "no reason given"
        note = f"ShipBob shipment {body.get('id', '?')} is in exception: {what}"
    elif action is WebhookAction.CANCELLED:
        shipment_id = body.get("id") if "shipments" not in body else None
        note = f"ShipBob cancelled shipment {shipment_id or '?'}."
    return WebhookCall(headers["webhook-id"][:200], action, lambda: [info], note)


def read_shipmonk(adapter, headers: Mapping[str, str], raw: bytes) -> WebhookCall:
    """ShipMonk's ``orderShipmentNotification`` (one call per shipment, one tracking number
    per package) and ``orderStatusChange`` (the whole order, on every change of its
    ``processing_status``: a hold or Action Required is the house's problem with the
    order), proven by the HTTP Basic auth set on the account."""
    auth = basic_auth(headers)
    if auth is None or not adapter.webhook_auth_ok(*auth):
        raise WebhookRefused(401, "The Basic auth user name or password is wrong.")
    body = json_object(raw)
    status_change = "processing_status" in body
    if status_change:
        info = parsed(adapter.status_change_tracking, body, "a ShipMonk order")
        event_id = "status:" + hashlib.sha256(
            f"{info.key}|{body.get('processing_status')}|{body.get('updated_at')}".encode()
        ).hexdigest()
    else:
        info = parsed(adapter.notification_tracking, body, "a ShipMonk shipment notification")
        numbers = ",".join(sorted(p.tracking_number for p in info.packages))
        event_id = "packages:" + hashlib.sha256(f"{info.key}|{numbers}".encode()).hexdigest()
    if not info.key or not (info.packages or status_change):
        raise WebhookRefused(400, "The notification needs order_key and packages with "
                                  "tracking numbers.")
    return WebhookCall(event_id, WebhookAction.TRACKING, lambda: [info],
                       note=f"ShipMonk order {info.key} is {body.get('processing_status')}; "
                            "nothing to change.",
                       not_ours="The call names no order of this account.")
