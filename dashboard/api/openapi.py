"""The OpenAPI 3.0 description of the JSON API, built from one table of endpoints.

``/api/openapi.json`` serves it and the dashboard's API help page renders it, so the two
never disagree. Each endpoint takes the same parameters by GET query string or POST form.
"""
from __future__ import annotations

from copy import deepcopy
from typing import NamedTuple

DATE = {"type": "string", "pattern": r"^\d{1,2}/\d{1,2}/\d{4}$", "example": "11/02/2026",
        "x-format": "m/d/Y date"}
ID = {"type": "string", "pattern": r"^\d{1,18}$", "example": "1042", "x-format": "number"}
TEXT32 = {"type": "string", "maxLength": 32}
STATUS_WORDS = ["HOLD", "PENDING", "PENDING_SHIPMENT", "SHIPPED", "DELIVERED", "FAILED",
                "CANCELLED", "RETURNED"]


def _p(name: str, schema: dict, description: str, required: bool = False) -> dict:
    """A parameter; ``x-format`` is how the help page names its format to people."""
    shown = schema.get("x-format") or (" | ".join(schema["enum"]) if "enum" in schema else
                                       f"text, at most {schema.get('maxLength', 254)} characters")
    return {"name": name, "schema": schema, "description": description, "required": required,
            "x-format": shown}


AUTH = [
    _p("loginId", {"type": "string", "maxLength": 32, "example": "shipworks-east"},
       "The API user's login ID.", True),
    _p("password", {"type": "string", "maxLength": 32, "format": "password"},
       "The API user's password (never contains &).", True),
]
PAGING = [
    _p("page", {"type": "string", "pattern": r"^\d{1,9}$", "default": "1", "x-format": "number"},
       "Page number, from 1."),
    _p("resultsPerPage", {"type": "string", "pattern": r"^\d{1,3}$", "default": "25",
                           "x-format": "number"},
       "Results per page, 1 to 200 (default 25)."),
]
DATES = [
    _p("dateRangeType", {"type": "string", "enum": ["dateCreated", "dateUpdated"],
                         "default": "dateCreated"},
       "Which date startDate and endDate filter on."),
    _p("startDate", DATE, "First day, m/d/Y (UTC). Required unless orderId is given."),
    _p("endDate", DATE, "Last day, m/d/Y (UTC), inclusive. Required unless orderId is given."),
]

NULLABLE_STRING = {"type": "string", "nullable": True}
ITEM = {"type": "object", "properties": {
    k: NULLABLE_STRING for k in ("fulfillmentItemId", "name", "sku", "qty", "status",
                                 "productId")}}
SHIP_TO = ("shipFirstName", "shipLastName", "shipAddress1", "shipAddress2", "shipCity",
           "shipState", "shipPostalCode", "shipCountry")
FULFILLMENT_FIELDS = ("fulfillmentId", "orderId", "fulfillmentHouseId", "company",
                      "clientFulfillmentId", "status", "trackingNumber", "shipCarrier",
                      "shipMethod", "dateShipped", "dateDelivered", "dateReturned",
                      "dateCreated", "dateUpdated", "dateExported", "isReshipment",
                      "responseText", "rmaNumber")
FULFILLMENT = {"type": "object", "required": ["fulfillmentId", "orderId", "status", "items"],
               "properties": {**{k: NULLABLE_STRING for k in FULFILLMENT_FIELDS},
                              "items": {"type": "array", "items": ITEM}}}
FULFILLMENT_RECORD = deepcopy(FULFILLMENT)
FULFILLMENT_RECORD["properties"].update({k: NULLABLE_STRING for k in SHIP_TO})
ORDER_FIELDS = ("orderId", "clientOrderId", "dateCreated", "dateUpdated", "orderStatus",
                "totalAmount", "firstName", "lastName", "emailAddress", "phoneNumber",
                "address1", "address2", "city", "state", "postalCode", "country", *SHIP_TO,
                "shipCarrier", "shipMethod")
ORDER = {"type": "object", "required": ["orderId", "items", "fulfillments"], "properties": {
    **{k: NULLABLE_STRING for k in ORDER_FIELDS},
    "items": {"type": "object", "additionalProperties": {"type": "object", "properties": {
        k: NULLABLE_STRING for k in ("productId", "name", "sku", "qty", "price")}}},
    "fulfillments": {"type": "array", "items": FULFILLMENT}}}


def _page_of(record: dict) -> dict:
    return {"type": "object", "required": ["totalResults", "resultsPerPage", "page", "data"],
            "properties": {"totalResults": {"type": "string"},
                           "resultsPerPage": {"type": "string"}, "page": {"type": "string"},
                           "data": {"type": "array", "items": record}}}


def _envelope(success: dict) -> dict:
    return {"type": "object", "required": ["result", "message"], "properties": {
        "result": {"type": "string", "enum": ["SUCCESS", "ERROR"]},
        "message": {"anyOf": [success, {"type": "string"},
                              {"type": "object", "additionalProperties": {"type": "string"},
                               "description": "field name → what is wrong with it"}]}}}


class Endpoint(NamedTuple):
    path: str
    operation_id: str
    title: str
    #: the ApiUser permission it needs
    permission: str
    summary: str
    parameters: list
    #: schema of the SUCCESS message
    success: dict
    #: {"request": form body, "response": answer}
    example: dict


ENDPOINTS = [Endpoint(*e) for e in [
    ("/order/query/", "orderQuery", "Order Query", "order_query",
     "Orders with at least one fulfillment of your house accounts, with those fulfillments "
     "and their items. Held fulfillments you receive move to PENDING with dateExported.",
     [_p("orderId", ID, "One order; startDate and endDate are then optional."),
      _p("orderStatus", {"type": "string",
                         "enum": ["COMPLETE", "PARTIAL", "DECLINED", "REFUNDED", "CANCELLED"]},
         "Every order here is COMPLETE (placed and paid)."),
      _p("campaignId", {"type": "string", "maxLength": 32},
         "Accepted for compatibility; this CRM has no campaigns, so it filters nothing."),
      *DATES,
      *(_p(name, {"type": "string", "maxLength": 254}, f"Exact match on the customer's {label}.")
        for name, label in (("firstName", "first name"), ("lastName", "last name"),
                            ("emailAddress", "email address"), ("phoneNumber", "phone number"),
                            ("postalCode", "postal code"))),
      *PAGING],
     _page_of(ORDER),
     {"request": "loginId=shipmonk&password=…&startDate=11/01/2026&endDate=11/02/2026",
      "response": {"result": "SUCCESS", "message": {
          "totalResults": "1", "resultsPerPage": "25", "page": "1", "data": [{
              "orderId": "1042", "dateCreated": "2026-11-02 09:00:00", "orderStatus": "COMPLETE",
              "totalAmount": "20.00", "shipFirstName": "Grace", "shipLastName": "Hopper",
              "items": {"311": {"productId": "7", "name": "Shoe", "sku": "SHOE-1", "qty": "2",
                                "price": "10.00"}},
              "fulfillments": [{"fulfillmentId": "877", "status": "PENDING",
                                "dateExported": "2026-11-02 09:05:00", "items": []}]}]}}}),
    ("/fulfillment/query/", "fulfillmentQuery", "Fulfillment Query", "fulfillment_query",
     "One record per fulfillment of your house accounts. Held records you receive move to "
     "PENDING with dateExported; asking again returns them again.",
     [_p("orderId", ID, "The fulfillments of one order; startDate and endDate are then "
                        "optional."),
      _p("fulfillmentStatus", {"type": "string", "enum": STATUS_WORDS}, "Only this status."),
      *DATES, *PAGING],
     _page_of(FULFILLMENT_RECORD),
     {"request": "loginId=shipworks&password=…&fulfillmentStatus=HOLD&startDate=11/01/2026"
                 "&endDate=11/02/2026",
      "response": {"result": "SUCCESS", "message": {
          "totalResults": "1", "resultsPerPage": "25", "page": "1", "data": [{
              "fulfillmentId": "877", "orderId": "1042", "status": "PENDING",
              "dateExported": "2026-11-02 09:05:00", "shipFirstName": "Grace",
              "items": [{"fulfillmentItemId": "902", "sku": "SHOE-1", "qty": "2",
                         "status": "PENDING"}]}]}}}),
    ("/fulfillment/update/", "fulfillmentUpdate", "Update Fulfillment", "fulfillment_update",
     "Report what happened to a fulfillment. SHIPPED with a tracking number moves it to "
     "PENDING_SHIPMENT and the carrier check takes over; DELIVERED, RETURNED and CANCELLED "
     "follow the status rules; RMA_PENDING stores the RMA number. A move the rules refuse is "
     "an ERROR and changes nothing.",
     [_p("fulfillmentId", ID, "Required if no orderId."),
      _p("orderId", ID, "Required if no fulfillmentId: every open fulfillment of the order "
                        "that you serve."),
      _p("fulfillmentStatus", {"type": "string", "enum": ["SHIPPED", "DELIVERED", "RETURNED",
                                                         "CANCELLED", "RMA_PENDING"]},
         "What happened.", True),
      _p("trackingNumber", TEXT32, "Required with SHIPPED; at most 32 characters."),
      _p("dateShipped", DATE, "Required with SHIPPED, m/d/Y."),
      _p("shipCarrier", TEXT32, "Optional carrier (USPS, UPS, FedEx, DHL Express …); "
                                "detected from the tracking number when left out."),
      _p("shipMethod", TEXT32, "Optional ship method."),
      _p("dateReturned", DATE, "Required with RETURNED, m/d/Y."),
      _p("rmaNumber", TEXT32, "Required with RMA_PENDING."),
      _p("refundAmount", {"type": "string", "pattern": r"^\d{1,8}(\.\d{1,2})?$",
                         "x-format": "amount, e.g. 19.99"},
         "Required with RMA_PENDING, e.g. 19.99.")],
     {"type": "string"},
     {"request": "loginId=shipworks&password=…&fulfillmentId=877&fulfillmentStatus=SHIPPED"
                 "&trackingNumber=1Z999AA10123456784&dateShipped=11/02/2026",
      "response": {"result": "SUCCESS", "message": "Fulfillment updated"}}),
]]


def _operation(op_id: str, title: str, summary: str, params: list[dict], success: dict,
               example: dict, method: str) -> dict:
    everything = AUTH + params
    operation = {"operationId": f"{op_id}{method.title()}", "summary": title,
                 "description": summary,
                 "responses": {"200": {
                     "description": "Always 200: result SUCCESS, or ERROR with a message.",
                     "content": {"application/json": {"schema": _envelope(success),
                                                      "example": example["response"]}}}}}
    if method == "get":
        operation["parameters"] = [{**p, "in": "query"} for p in everything]
    else:
        operation["requestBody"] = {"required": True, "content": {
            "application/x-www-form-urlencoded": {"schema": {
                "type": "object",
                "required": [p["name"] for p in everything if p["required"]],
                "properties": {p["name"]: {**p["schema"], "description": p["description"]}
                               for p in everything}}}}}
    return operation


def openapi_document(server_url: str, rate_limit: str) -> dict:
    paths = {}
    for e in ENDPOINTS:
        paths[e.path] = {method: _operation(e.operation_id, e.title, e.summary, e.parameters,
                                            e.success, e.example, method)
                         for method in ("get", "post")}
    return {
        "openapi": "3.0.3",
        "info": {"title": "CRM fulfillment API (Konnektive-compatible)", "version": "1.0.0",
                 "description": (
                     "Pull houses call these endpoints with an API user's loginId and password "
                     "on every call, from an allowed IP address, for the endpoints the user is "
                     f"granted. Calls are limited to {rate_limit} per API user. Every answer is "
                     "HTTP 200. "
                     "Request dates are m/d/Y, response datetimes YYYY-MM-DD HH:MM:SS (UTC), "
                     "numbers are strings.")},
        "servers": [{"url": server_url}],
        "paths": paths,
    }
