"""Packages a house follows on its own carrier (Amazon's AMZL), which no carrier tracker of
ours covers.

The house check records such a package with the house's word on it (``Package.house_status``,
``status_source`` "house"). From then on the carrier check asks the house, not a carrier,
where the package is: the record moves to Shipped and Delivered on the house's word, as it
would on a carrier's.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import select

from adapters import push_houses
from adapters.base import AdapterError, CarrierStatus, SentOrder
from dashboard.extensions import db
from dashboard.models import Fulfillment, HouseAccount
from dashboard.services.house_accounts import adapter_for

log = logging.getLogger(__name__)

#: statuses after which a package is no longer followed
_FINAL = (CarrierStatus.DELIVERED, CarrierStatus.RETURNED)


def ask_houses(checks: Sequence[Any], at: datetime) -> None:
    """Update ``checks`` (the carrier check's rows of packages the house follows: objects
    with ``fulfillment_id``, ``tracking_number``, ``carrier_status``, ``carrier_detail``,
    ``delivered_at``, ``checks``, ``done``) with what their houses say now. A house that
    cannot be asked leaves its packages as they were, to be asked at the next check."""
    if not checks:
        return
    rows = db.session.execute(
        select(Fulfillment.id, Fulfillment.reference, Fulfillment.house_reference,
               Fulfillment.order_id, Fulfillment.house_account_id)
        .join(HouseAccount, Fulfillment.house_account_id == HouseAccount.id)
        .where(Fulfillment.id.in_({c.fulfillment_id for c in checks}),
               HouseAccount.adapter_key.in_(push_houses()))).all()
    by_account = defaultdict(list)
    for row in rows:
        by_account[row.house_account_id].append(row)
    clients = {a.id: (adapter_for(a), a.title) for a in db.session.scalars(
        select(HouseAccount).where(HouseAccount.id.in_(list(by_account))))}
    db.session.rollback()  # hold no transaction during the houses' calls
    reference = {row.id: row.reference for row in rows}
    for account_id, group in by_account.items():
        adapter, title = clients[account_id]
        try:
            infos = adapter.fetch_tracking([
                SentOrder(r.reference, r.house_reference or "", f"{r.order_id}-{r.id}")
                for r in group])
        except AdapterError as exc:
            log.warning("package check at %s failed: %s", title, exc)
            continue
        said = {(info.key, p.tracking_number): p for info in infos for p in info.packages}
        for check in checks:
            package = said.get((reference.get(check.fulfillment_id), check.tracking_number))
            if package is not None and package.house_status is not None:
                _apply(check, package, at)


def _apply(check: Any, package, at: datetime) -> None:
    status = package.house_status
    check.checks += 1
    check.carrier_detail = (package.house_status_detail or status.value.replace("_", " "))[:500]
    if status is not CarrierStatus.UNKNOWN:
        check.carrier_status = status.value
    if status is CarrierStatus.DELIVERED:
        check.delivered_at = package.delivered_at or at
    check.done = status in _FINAL
