"""Template filters and the navigation every page shows."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from flask import request, url_for

from adapters.carriers.detect import tracking_url
from dashboard import status as statuses
from dashboard.clock import now
from dashboard.services.tracking import carrier_name, source_name
from dashboard.status import Status


def _status_label(value) -> str:
    try:
        return Status(value).label
    except ValueError:
        return str(value)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") + " UTC" if value else "—"


def _money(value) -> str:
    return f"${Decimal(value or 0):,.2f}"


def _ago(value: datetime | None) -> str:
    """'3 h', '2 d': how long ago, for waiting times."""
    if value is None:
        return "—"
    seconds = max(0, (now() - value).total_seconds())
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def _url_with(**changes) -> str:
    """This page's URL with some query arguments changed (None drops one)."""
    args = request.args.to_dict()
    args.update(changes)
    query = urlencode({k: v for k, v in args.items() if v not in (None, "")})
    # the query is built here, not by url_for: an argument such as ``_method`` or
    # ``_external`` in the visitor's URL must stay a query argument, not steer url_for
    path = url_for(request.endpoint, **(request.view_args or {}))
    return f"{path}?{query}" if query else path


def _carrier_name(carrier_key: str | None) -> str:
    return carrier_name(carrier_key or "") or "Unknown carrier"


def init_app(app) -> None:
    app.jinja_env.filters.update(status_label=_status_label, when=_when, money=_money, ago=_ago,
                                 carrier_name=_carrier_name)
    app.jinja_env.globals.update(Status=Status, statuses=statuses, url_with=_url_with,
                                 tracking_url=tracking_url, source_name=source_name)
