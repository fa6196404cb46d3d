"""Stand-ins for the UPS, FedEx, USPS and DHL Express tracking APIs, at the paths karrio calls.

Each simulator is a WSGI app served over real HTTP on 127.0.0.1 and driven from Python:

- ``register(number, status)`` gives a number a journey ending in one of ``STATUSES``; any
  other number gets the carrier's own not-found answer;
- ``expire_tokens()`` revokes every OAuth token handed out, so the next tracking call gets
  the carrier's 401 and the client has to fetch a new token;
- ``down = True`` answers every request with 503, as a carrier's gateway does in an outage;
- ``retry_after = N`` answers every request with the carrier's 429 and a ``Retry-After: N``
  header, as a carrier does to a client over its rate limit; ``None`` lifts it;
- ``delay = N`` holds every request N seconds before answering (a carrier that hangs);
- ``token_requests`` counts tokens asked for, ``tracking_calls`` lists the numbers of each
  tracking request, in order, and ``requests`` counts every HTTP request, refused ones too.

Bodies follow the carriers' documented shapes and the fixtures in karrio's own connector
tests (UPS Track API v1, FedEx Track API v1, USPS Tracking API v3, DHL XML Services
``KnownTrackingRequest``). Event wording is the carriers'. Codes found in neither karrio's
fixtures nor the carriers' public documentation are illustrative: UPS 10404, 10429 and 10500,
USPS event code 55, DHL's site-ID refusal code 100, and DHL's 429 page.

    with UPSSimulator() as ups:
        ups.register("1Z5R89390357567127", "delivered")
        UPSTracker(ups.credentials, ups.url).track(["1Z5R89390357567127"])
"""
from __future__ import annotations

import json
import re
import secrets
import threading
import time
import uuid
from abc import ABC, abstractmethod
from datetime import datetime, timedelta
from typing import Any, ClassVar
from xml.sax.saxutils import escape

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

#: the journeys a registered number can have reached
STATUSES = ("pre_transit", "in_transit", "out_for_delivery", "delivered", "returned", "exception")

#: each status's scans, latest first, as steps every carrier words its own way
JOURNEYS: dict[str, tuple[str, ...]] = {
    "pre_transit": ("label",),
    "in_transit": ("transit", "pickup", "label"),
    "out_for_delivery": ("out", "transit", "pickup", "label"),
    "delivered": ("delivered", "out", "transit", "pickup", "label"),
    "returned": ("returned", "transit", "pickup", "label"),
    "exception": ("exception", "out", "transit", "pickup", "label"),
}


class CarrierSimulator(ABC):
    """State, counters and the HTTP server every carrier simulator shares."""

    #: the carrier's event wording for each journey step it reports
    steps: ClassVar[dict[str, tuple[str, ...]]]
    #: how long a token says it lives, in seconds (the carrier's real lifetime)
    token_lifetime: ClassVar[int] = 3599

    def __init__(self, credentials: dict[str, str] | None = None,
                 now: datetime = datetime(2025, 3, 3, 9, 30)):
        self.credentials = credentials or self.default_credentials()
        self.now = now
        self.down = False
        self.retry_after: int | None = None
        self.delay = 0.0
        self.requests = 0
        self.token_requests = 0
        self.tracking_calls: list[tuple[str, ...]] = []
        self._numbers: dict[str, str] = {}
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self._server = None
        self._thread: threading.Thread | None = None

    @staticmethod
    def default_credentials() -> dict[str, str]:
        return {"client_id": "sim-client-" + secrets.token_hex(4),
                "client_secret": "sim-secret-" + secrets.token_hex(8)}

    # ---------------------------------------------------------------- test hooks

    def register(self, number: str, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        if JOURNEYS[status][0] not in self.steps:
            raise ValueError(f"{type(self).__name__} has no scan for {status}")
        with self._lock:
            self._numbers[number] = status

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    # ---------------------------------------------------------------- server

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running; call start() first")
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> str:
        """Serve on a free port of 127.0.0.1 in a background thread; return the base URL."""
        self._server = make_server("127.0.0.1", 0, self, threaded=True,
                                   request_handler=_QuietRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={
            "poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self._lock:
            self.requests += 1
        if self.delay:
            time.sleep(self.delay)
        if self.down:
            response = self.outage()
        elif self.retry_after is not None:
            response = self.too_many_requests()
            response.headers["Retry-After"] = str(self.retry_after)
        else:
            response = self.handle(request)
        return response(environ, start_response)

    # ---------------------------------------------------------------- helpers

    @abstractmethod
    def handle(self, request: Request) -> Response:
        """Answer one request as the carrier's OAuth and tracking endpoints do."""

    @abstractmethod
    def outage(self) -> Response:
        """The carrier's answer while it is down (a 5xx in its own shape)."""

    @abstractmethod
    def too_many_requests(self) -> Response:
        """The carrier's 429 body (the Retry-After header is added by the caller)."""

    def _issue_token(self) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.token_requests += 1
            self._tokens.add(token)
        return token

    def _count_tracking(self, numbers: list[str]) -> None:
        with self._lock:
            self.tracking_calls.append(tuple(numbers))

    def _bearer_ok(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        with self._lock:
            return token in self._tokens

    def _client_ok(self, client_id: str | None, client_secret: str | None) -> bool:
        return (client_id == self.credentials.get("client_id")
                and client_secret == self.credentials.get("client_secret"))

    def _journey(self, number: str) -> list[tuple[datetime, tuple[str, ...]]] | None:
        """The number's scans, latest first, each with its time; None for an unknown number."""
        with self._lock:
            status = self._numbers.get(number)
        if status is None:
            return None
        steps = [step for step in JOURNEYS[status] if step in self.steps]
        return [(self.now - timedelta(hours=6 * i), self.steps[step])
                for i, step in enumerate(steps)]


class _QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        """Tests send carriers hundreds of requests; their access log is noise."""


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


# ---------------------------------------------------------------- UPS

class UPSSimulator(CarrierSimulator):
    """``POST /security/v1/oauth/token`` (Basic client credentials) and
    ``GET /api/track/v1/details/{inquiryNumber}``."""

    token_lifetime = 14399
    #: step: (status type, status code, description)
    steps = {
        "label": ("M", "MP", "Shipper created a label, UPS has not received the package yet."),
        "pickup": ("I", "OR", "Origin Scan"),
        "transit": ("I", "DP", "Departed from Facility"),
        "out": ("I", "OT", "Out For Delivery Today"),
        "delivered": ("D", "FS", "DELIVERED"),
        "returned": ("RS", "RS", "Returned to Sender"),
        "exception": ("X", "U2", "The receiver was not available for delivery. We'll make a "
                                 "second attempt the next business day."),
    }

    @staticmethod
    def _errors(code: str, message: str, status: int) -> Response:
        return _json({"response": {"errors": [{"code": code, "message": message}]}}, status)

    def outage(self) -> Response:
        return self._errors("10500", "Service Unavailable. Please try again later.", 503)

    def too_many_requests(self) -> Response:
        return self._errors("10429", "Too Many Requests.", 429)

    def handle(self, request: Request) -> Response:
        if request.path == "/security/v1/oauth/token" and request.method == "POST":
            auth = request.authorization
            if not auth or not self._client_ok(auth.username, auth.password):
                return self._errors("10401", "ClientId is Invalid", 401)
            return _json({
                "token_type": "Bearer", "issued_at": str(int(time.time() * 1000)),
                "client_id": auth.username, "access_token": self._issue_token(), "scope": "",
                "expires_in": str(self.token_lifetime), "refresh_count": "0",
                "status": "approved"})
        match = re.fullmatch(r"/api/track/v1/details/([^/]+)", request.path)
        if match and request.method == "GET":
            number = match.group(1)
            self._count_tracking([number])
            if not self._bearer_ok(request):
                return self._errors("250002", "Invalid Authentication Information.", 401)
            return _json({"trackResponse": {"shipment": [self._shipment(number)]}})
        return self._errors("10404", "Resource not found", 404)

    def _shipment(self, number: str) -> dict:
        journey = self._journey(number)
        if journey is None:
            return {"inquiryNumber": number, "warnings": [
                {"code": "TW0001", "message": "Tracking Information Not Found"}]}
        activity = [{
            "location": {"address": {"city": "WAYNE", "stateProvince": "NJ",
                                     "postalCode": "07470", "country": "US",
                                     "countryCode": "US"}, "slic": "8566"},
            "status": {"type": kind, "description": text, "code": code},
            "date": at.strftime("%Y%m%d"), "time": at.strftime("%H%M%S"),
        } for at, (kind, code, text) in journey]
        return {"inquiryNumber": number, "package": [{
            "trackingNumber": number, "activity": activity,
            "currentStatus": {"description": activity[0]["status"]["description"],
                              "code": activity[0]["status"]["code"]},
            "deliveryDate": [], "packageCount": 1,
            "service": {"code": "003", "description": "UPS Ground"},
            "weight": {"unitOfMeasurement": "LBS", "weight": "1.20"},
        }], "userRelation": []}


# ---------------------------------------------------------------- FedEx

class FedExSimulator(CarrierSimulator):
    """``POST /oauth/token`` (form client credentials) and ``POST /track/v1/trackingnumbers``
    with up to 30 numbers."""

    #: step: (eventType, eventDescription, exceptionDescription, derivedStatus)
    steps = {
        "label": ("OC", "Shipment information sent to FedEx", "", "Initiated"),
        "pickup": ("PU", "Picked up", "", "Picked up"),
        "transit": ("IT", "On the way", "", "In transit"),
        "out": ("OD", "On FedEx vehicle for delivery", "", "Out for delivery"),
        "delivered": ("DL", "Delivered", "", "Delivered"),
        "returned": ("RS", "Returning package to shipper", "", "Return to shipper"),
        "exception": ("DE", "Delivery exception", "Customer not available or business closed",
                      "Delivery exception"),
    }

    @staticmethod
    def _errors(code: str, message: str, status: int) -> Response:
        return _json({"transactionId": str(uuid.uuid4()),
                      "errors": [{"code": code, "message": message}]}, status)

    def outage(self) -> Response:
        return self._errors(
            "SERVICE.UNAVAILABLE.ERROR",
            "The service is currently unavailable and we are working to resolve the issue. We "
            "apologize for any inconvenience. Please check back at a later time.", 503)

    def too_many_requests(self) -> Response:
        return self._errors("TOO.MANY.REQUESTS.ERROR", "We have received too many requests in "
                            "a short duration. Please wait a while to try again.", 429)

    def handle(self, request: Request) -> Response:
        if request.path == "/oauth/token" and request.method == "POST":
            form = request.form
            if form.get("grant_type") != "client_credentials" or not self._client_ok(
                    form.get("client_id"), form.get("client_secret")):
                return self._errors("NOT.AUTHORIZED.ERROR",
                                    "The given client credentials were not valid. Please "
                                    "modify your request and try again.", 401)
            return _json({"access_token": self._issue_token(), "token_type": "bearer",
                          "expires_in": self.token_lifetime, "scope": "CXS-TP"})
        if request.path == "/track/v1/trackingnumbers" and request.method == "POST":
            body = request.get_json(silent=True) or {}
            numbers = [info.get("trackingNumberInfo", {}).get("trackingNumber", "")
                       for info in body.get("trackingInfo") or []]
            self._count_tracking(numbers)
            if not self._bearer_ok(request):
                return self._errors("NOT.AUTHORIZED.ERROR", "Access token expired. Please "
                                    "modify your request and try again.", 401)
            if not 1 <= len(numbers) <= 30:
                return self._errors("TRACKING.TRACKINGNUMBER.LIMIT",
                                    "Please provide between 1 and 30 tracking numbers.", 400)
            return _json({"transactionId": str(uuid.uuid4()), "output": {
                "completeTrackResults": [
                    {"trackingNumber": n, "trackResults": [self._result(n)]} for n in numbers]}})
        return self._errors("NOT.FOUND.ERROR", "The resource you requested is no longer "
                            "available. Please modify your request and try again.", 404)

    def _result(self, number: str) -> dict:
        info = {"trackingNumber": number, "carrierCode": "FDXG",
                "trackingNumberUniqueId": f"2460~{number}~FDEG"}
        journey = self._journey(number)
        if journey is None:
            return {"trackingNumberInfo": {"trackingNumber": number, "trackingNumberUniqueId": "",
                                           "carrierCode": ""},
                    "error": {"code": "TRACKING.TRACKINGNUMBER.NOTFOUND",
                              "message": "Tracking number cannot be found. Please correct the "
                                         "tracking number and try again."}}
        location = {"streetLines": [""], "city": "KEASBEY", "stateOrProvinceCode": "NJ",
                    "postalCode": "08832", "countryCode": "US", "residential": False,
                    "countryName": "United States"}
        events = [{
            "date": at.strftime("%Y-%m-%dT%H:%M:%S-05:00"), "eventType": code,
            "eventDescription": text, "exceptionCode": "", "exceptionDescription": exception,
            "scanLocation": location, "locationType": "FEDEX_FACILITY",
            "derivedStatusCode": code, "derivedStatus": derived,
        } for at, (code, text, exception, derived) in journey]
        latest = events[0]
        return {
            "trackingNumberInfo": info,
            "latestStatusDetail": {"code": latest["eventType"],
                                   "derivedCode": latest["eventType"],
                                   "statusByLocale": latest["derivedStatus"],
                                   "description": latest["derivedStatus"],
                                   "scanLocation": location},
            "serviceDetail": {"type": "FEDEX_GROUND", "description": "FedEx Ground",
                              "shortDescription": "FG"},
            "scanEvents": events,
        }


# ---------------------------------------------------------------- USPS

class USPSSimulator(CarrierSimulator):
    """``POST /oauth2/v3/token`` (form client credentials) and
    ``GET /tracking/v3/tracking/{trackingNumber}?expand=DETAIL``."""

    token_lifetime = 28799
    #: step: (eventType, eventCode, statusCategory)
    steps = {
        "label": ("Shipping Label Created, USPS Awaiting Item", "GX", "Pre-Shipment"),
        "pickup": ("USPS in possession of item", "03", "Accepted"),
        "transit": ("In Transit to Next Facility", "TL", "In Transit"),
        "out": ("Out for Delivery", "OF", "Out for Delivery"),
        "delivered": ("Delivered, In/At Mailbox", "01", "Delivered"),
        "returned": ("Delivered, To Original Sender", "01", "Delivered"),
        "exception": ("Delivery Attempted - No Access to Delivery Location", "55", "Alert"),
    }

    @staticmethod
    def _error(status: int, title: str, detail: str) -> Response:
        return _json({"apiVersion": "/tracking/v3", "error": {
            "code": str(status), "message": title,
            "errors": [{"status": str(status), "code": str(status), "title": title,
                        "detail": detail}]}}, status)

    def outage(self) -> Response:
        return self._error(503, "Service Unavailable",
                           "The service is temporarily unavailable. Please try again later.")

    def too_many_requests(self) -> Response:
        return self._error(429, "Too Many Requests",
                           "The rate limit of this application has been exceeded.")

    def handle(self, request: Request) -> Response:
        if request.path == "/oauth2/v3/token" and request.method == "POST":
            form = request.form
            if form.get("grant_type") != "client_credentials" or not self._client_ok(
                    form.get("client_id"), form.get("client_secret")):
                return _json({"error": "invalid_client",
                              "error_description": "Client authentication failed.",
                              "error_uri": "https://datatracker.ietf.org/doc/html/rfc6749"
                                           "#page-45"}, 401)
            return _json({"access_token": self._issue_token(), "token_type": "Bearer",
                          "issued_at": int(time.time() * 1000),
                          "expires_in": self.token_lifetime, "status": "approved",
                          "scope": form.get("scope", ""), "issuer": "api.usps.com",
                          "client_id": form.get("client_id")})
        match = re.fullmatch(r"/tracking/v3/tracking/([^/]+)", request.path)
        if match and request.method == "GET":
            number = match.group(1)
            self._count_tracking([number])
            if not self._bearer_ok(request):
                return self._error(401, "Unauthorized",
                                   "The access token is invalid or has expired.")
            journey = self._journey(number)
            if journey is None:
                return self._error(404, "Not Found",
                                   f"The tracking number {number} could not be found.")
            return _json(self._tracking(number, journey))
        return self._error(404, "Not Found", "The requested resource does not exist.")

    @staticmethod
    def _tracking(number: str, journey: list) -> dict:
        events = [{
            "eventType": text, "eventTimestamp": at.strftime("%Y-%m-%dT%H:%M:%S"),
            "GMTTimestamp": (at + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "GMTOffset": "-05:00", "eventCountry": None, "eventCity": "HERNANDO",
            "eventState": "FL", "eventZIP": "34442", "firm": None, "name": None,
            "authorizedAgent": "false", "eventCode": code, "additionalProp": None,
        } for at, (text, code, _category) in journey]
        _at, (status, _code, category) = journey[0]
        return {"destinationCity": "HERNANDO", "destinationState": "FL",
                "destinationZIP": "34442", "mailClass": "USPS Ground Advantage",
                "mailType": "DM", "originCity": "JAMAICA", "originState": "NY",
                "originZIP": "11430", "status": status, "statusCategory": category,
                "statusSummary": f"{status}.", "trackingEvents": events,
                "trackingNumber": number}


# ---------------------------------------------------------------- DHL Express

class DHLExpressSimulator(CarrierSimulator):
    """``POST /XMLShippingServlet`` taking a ``KnownTrackingRequest`` with up to 10 waybills;
    the site ID and password travel in the request, so there are no tokens."""

    #: step: (EventCode, Description); DHL reports nothing before pickup
    steps = {
        "pickup": ("PU", "Shipment picked up"),
        "transit": ("DF", "Departed Facility in LEIPZIG - GERMANY"),
        "out": ("WC", "With delivery courier"),
        "delivered": ("OK", "Delivered"),
        "returned": ("RT", "Returned to shipper"),
        "exception": ("OH", "Shipment on hold"),
    }

    @staticmethod
    def default_credentials() -> dict[str, str]:
        return {"site_id": "SimSite" + secrets.token_hex(3),
                "password": "SimPass" + secrets.token_hex(6)}

    def outage(self) -> Response:
        return Response("<html><head><title>503 Service Unavailable</title></head><body>"
                        "<h1>Service Unavailable</h1></body></html>", status=503,
                        mimetype="text/html")

    def too_many_requests(self) -> Response:
        return Response("<html><head><title>429 Too Many Requests</title></head><body>"
                        "<h1>Too Many Requests</h1></body></html>", status=429,
                        mimetype="text/html")

    def handle(self, request: Request) -> Response:
        if request.path != "/XMLShippingServlet" or request.method != "POST":
            return Response("Not Found", status=404)
        body = request.get_data(as_text=True)
        numbers = [n.strip() for n in re.findall(r"<AWBNumber>([^<]*)</AWBNumber>", body)]
        self._count_tracking(numbers)
        site = re.search(r"<SiteID>([^<]*)</SiteID>", body)
        password = re.search(r"<Password>([^<]*)</Password>", body)
        if (not site or not password or site.group(1) != self.credentials["site_id"]
                or password.group(1) != self.credentials["password"]):
            return self._failure("100", "Failure: Authentication failed. The SiteID or "
                                        "Password is invalid.")
        if not 1 <= len(numbers) <= 10:
            return self._failure("111", "Error Parsing incoming request XML: between 1 and 10 "
                                        "AWBNumber elements are required.")
        return Response(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<req:TrackingResponse xmlns:req="http://www.dhl.com" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.dhl.com TrackingResponse.xsd">'
            f"<Response><ServiceHeader>{self._header()}</ServiceHeader></Response>"
            + "".join(self._awb_info(n) for n in numbers)
            + "<LanguageCode>en</LanguageCode></req:TrackingResponse>",
            mimetype="application/xml")

    def _header(self) -> str:
        return (f"<MessageTime>{self.now:%Y-%m-%dT%H:%M:%S}+00:00</MessageTime>"
                "<MessageReference>1234567890123456789012345678901</MessageReference>"
                f"<SiteID>{escape(self.credentials['site_id'])}</SiteID>")

    def _failure(self, code: str, text: str) -> Response:
        return Response(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<req:ShipmentTrackingErrorResponse xmlns:req="http://www.dhl.com" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.dhl.com track-err-res.xsd"><Response>'
            f"<ServiceHeader><MessageTime>{self.now:%Y-%m-%dT%H:%M:%S}+00:00</MessageTime>"
            "</ServiceHeader><Status><ActionStatus>Failure</ActionStatus><Condition>"
            f"<ConditionCode>{code}</ConditionCode><ConditionData>{escape(text)}</ConditionData>"
            "</Condition></Status></Response></req:ShipmentTrackingErrorResponse>",
            mimetype="application/xml")

    def _awb_info(self, number: str) -> str:
        journey = self._journey(number)
        awb = escape(number)
        if journey is None:
            return (f"<AWBInfo><AWBNumber>{awb}</AWBNumber><Status>"
                    "<ActionStatus>No Shipments Found</ActionStatus><Condition>"
                    "<ConditionCode>209</ConditionCode>"
                    f"<ConditionData>No Shipments Found for AWBNumber {awb}</ConditionData>"
                    "</Condition></Status></AWBInfo>")
        area = ("<ServiceAreaCode>LEJ</ServiceAreaCode>"
                "<Description>LEIPZIG - GERMANY</Description>")
        events = "".join(
            f"<ShipmentEvent><Date>{at:%Y-%m-%d}</Date><Time>{at:%H:%M:%S}</Time>"
            f"<ServiceEvent><EventCode>{code}</EventCode><Description>{escape(text)}"
            f"</Description></ServiceEvent><Signatory/><ServiceArea>{area}</ServiceArea>"
            "</ShipmentEvent>"
            for at, (code, text) in reversed(journey))
        shipped = journey[-1][0]
        return (f"<AWBInfo><AWBNumber>{awb}</AWBNumber><Status><ActionStatus>success"
                "</ActionStatus></Status><ShipmentInfo>"
                f"<OriginServiceArea>{area}</OriginServiceArea>"
                "<DestinationServiceArea><ServiceAreaCode>JFK</ServiceAreaCode>"
                "<Description>NEW YORK - USA</Description></DestinationServiceArea>"
                "<ShipperName>SIMULATED SHIPPER</ShipperName>"
                "<ShipperAccountNumber>960528602</ShipperAccountNumber>"
                "<ConsigneeName>SIMULATED CONSIGNEE</ConsigneeName>"
                f"<ShipmentDate>{shipped:%Y-%m-%dT%H:%M:%S}</ShipmentDate><Pieces>1</Pieces>"
                "<Weight>0.5</Weight><WeightUnit>K</WeightUnit>"
                f"{events}</ShipmentInfo></AWBInfo>")


#: each simulator under our carrier key
SIMULATORS: dict[str, type[CarrierSimulator]] = {
    "usps": USPSSimulator,
    "ups": UPSSimulator,
    "fedex": FedExSimulator,
    "dhl_express": DHLExpressSimulator,
}
