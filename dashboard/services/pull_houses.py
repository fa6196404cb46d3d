"""What pull houses see and what they report, shared by the JSON API and the ShipWorks module.

- **Scope**: an API user sees only the fulfillments of the house accounts it serves. A Hold
  record is not the house's yet while it waits out a hold delay or while its account is
  deactivated, so such records are left out until they are due.
- **Export**: a due Hold record of a pull-house account that the house receives counts as
  sent: it moves to Pending with ``date_exported`` (the same record is returned again when
  asked again, now Pending, so a house that crashed mid-import loses nothing).
- **Modified time** (``modified_at``): when a record last changed as its house sees it. A
  record that becomes visible gets the moment it became visible: a Hold record falls due at
  ``due_at``; reactivating an account (``touch_held``), resending and reassigning write
  ``updated_at``.
- **Reports**: shipped with tracking (→ Pending Shipment; the carrier check takes over),
  delivered, returned, cancelled, and RMA pending, all through the status rules. A report the
  rules refuse raises ``ReportRefused`` and the caller rolls back, so nothing changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, bindparam, case, or_, select, update

from adapters import pull_houses
from adapters.base import Package, TrackingInfo
from dashboard import status as rules
from dashboard.extensions import db
from dashboard.models import ApiUser, Fulfillment, HouseAccount, api_user_account
from dashboard.services.tracking import record_packages
from dashboard.status import Status

#: what a house may report, in the Konnektive wire words
REPORTS = ("SHIPPED", "DELIVERED", "RETURNED", "CANCELLED", "RMA_PENDING")
#: where an RMA can be opened: the goods have left the warehouse
RMA_FROM = rules.SHIPPED_OUT


@dataclass(frozen=True)
class Scope:
    """The house accounts an API user serves, read once per call."""

    account_ids: tuple[int, ...]
    #: accounts whose due Hold records the house may receive (active ones)
    active_ids: tuple[int, ...]
    #: active pull-house accounts: receiving their Hold records exports them
    export_ids: tuple[int, ...]
    titles: dict[int, str]

    def visible(self, at: datetime):
        """SQL condition on Fulfillment: records of these accounts the house may see."""
        return and_(Fulfillment.house_account_id.in_(self.account_ids),
                    or_(Fulfillment.status != Status.HOLD.value,
                        and_(Fulfillment.house_account_id.in_(self.active_ids),
                             Fulfillment.due_at <= at)))


def modified_at():
    """SQL expression: when a record last changed as its house sees it. A Hold record
    waiting out a hold delay becomes the house's when it falls due, so that moment is its
    modified time; any other record's is ``updated_at``."""
    return case((and_(Fulfillment.status == Status.HOLD.value,
                      Fulfillment.due_at > Fulfillment.updated_at), Fulfillment.due_at),
                else_=Fulfillment.updated_at)


def touch_held(account_id: int, at: datetime) -> None:
    """An account was activated: its Hold records become visible to its house now, so
    ``at`` is their modified time (a house downloading by modified time has moved past
    their old one). Does not commit."""
    db.session.execute(update(Fulfillment).where(
        Fulfillment.house_account_id == account_id, Fulfillment.status == Status.HOLD.value,
        Fulfillment.updated_at < at).values(updated_at=at))


def scope_of(user: ApiUser) -> Scope:
    rows = db.session.execute(
        select(HouseAccount.id, HouseAccount.active, HouseAccount.adapter_key, HouseAccount.title)
        .join(api_user_account, api_user_account.c.house_account_id == HouseAccount.id)
        .where(api_user_account.c.api_user_id == user.id)).all()
    pulls = set(pull_houses())
    return Scope(account_ids=tuple(r.id for r in rows),
                 active_ids=tuple(r.id for r in rows if r.active),
                 export_ids=tuple(r.id for r in rows if r.active and r.adapter_key in pulls),
                 titles={r.id: r.title for r in rows})


def export(rows: list[dict], scope: Scope, *, actor: str, via: str, at: datetime,
           served_as: dict[int, datetime] | None = None) -> set[int]:
    """Move the Hold records of pull accounts among ``rows`` to Pending with
    ``date_exported``, refresh ``date_exported`` and ``updated_at`` in the row dicts (one
    read for all; ``status`` stays what the house was handed) and return the ids moved.

    ``served_as`` (a download by modified time) maps ids to the modified time the house
    receives them with, already as Pending: the handover keeps that modified time, so the
    house is not served the same record twice. Does not commit."""
    held = [r["id"] for r in rows
            if r["status"] == Status.HOLD.value and r["house_account_id"] in scope.export_ids]
    if not held:
        return set()
    moved = set(rules.move_many(held, Status.PENDING, source="api", actor=actor,
                                detail=f"Received by the house through {via}.",
                                common={"date_exported": at, "sent_at": at}).moved)
    if served_as and moved:
        table = Fulfillment.__table__
        db.session.execute(update(table).where(table.c.id == bindparam("_id"))
                           .values(updated_at=bindparam("_modified")),
                           [{"_id": fid, "_modified": served_as[fid]} for fid in moved])
    fresh = {r.id: r for r in db.session.execute(
        select(Fulfillment.id, Fulfillment.date_exported, Fulfillment.updated_at)
        .where(Fulfillment.id.in_(moved)))}
    for row in rows:
        if row["id"] in fresh:
            new = fresh[row["id"]]
            row.update(date_exported=new.date_exported, updated_at=new.updated_at)
    return moved


# ------------------------------------------------------------------ reports


@dataclass(frozen=True)
class Report:
    """What a house says about one or more fulfillments."""

    status: str
    tracking_number: str = ""
    carrier: str = ""
    ship_method: str = ""
    shipped_at: datetime | None = None
    returned_at: datetime | None = None
    rma_number: str = ""
    refund_amount: Decimal | None = None
    comment: str = ""


class ReportRefused(Exception):
    """The status rules refuse the report; the caller rolls back so nothing changes."""


def apply_report(ids: list[int], report: Report, *, actor: str, at: datetime) -> None:
    """Apply ``report`` to every fulfillment in ``ids`` (all or none). Does not commit."""
    note = f" {report.comment}".rstrip()
    if report.status == "SHIPPED":
        package = Package(report.tracking_number, carrier=report.carrier,
                          ship_method=report.ship_method, shipped_at=report.shipped_at)
        result = record_packages({fid: TrackingInfo(str(fid), "", (package,)) for fid in ids},
                                 source="api", actor=actor, at=at)
        _raise_refused(result, Status.PENDING_SHIPMENT, "marked shipped")
    elif report.status == "RMA_PENDING":
        _open_rma(ids, report, actor=actor, at=at)
    else:
        target = Status(report.status.lower())
        values = {}
        if target is Status.DELIVERED:
            values = {fid: {"delivered_at": at} for fid in ids}
        elif target is Status.RETURNED:
            values = {fid: {"returned_at": report.returned_at or at} for fid in ids}
        result = rules.move_many(ids, target, source="api", actor=actor, values=values,
                                 detail=f"Reported {target.label} by the house.{note}")
        _raise_refused(result, target, f"marked {target.label.lower()}")


def _raise_refused(result: rules.BulkResult, target: Status, verb: str) -> None:
    if not result.refused:
        return
    sentences = []
    for fid, refusal in sorted(result.refused.items()):
        if refusal == rules.CHANGED:
            sentences.append(f"Fulfillment {fid} changed while it was being updated; try again.")
        elif refusal == rules.UNKNOWN:
            sentences.append(f"Fulfillment {fid} does not exist.")
        else:
            sentences.append(f"Fulfillment {fid} is {refusal.current.label} and cannot be "
                             f"{verb} (it cannot move to {target.label}).")
    raise ReportRefused(" ".join(sentences))


def _open_rma(ids: list[int], report: Report, *, actor: str, at: datetime) -> None:
    """Store the RMA number and put it on the timeline. The status rules have no RMA
    status, so the record keeps its status until the return itself is reported."""
    current = dict(db.session.execute(
        select(Fulfillment.id, Fulfillment.status).where(Fulfillment.id.in_(ids))).all())
    wrong = [fid for fid in ids if Status(current[fid]) not in RMA_FROM]
    if wrong:
        raise ReportRefused(" ".join(
            f"Fulfillment {fid} is {Status(current[fid]).label}; an RMA can only be opened "
            "for a record that has shipped." for fid in wrong))
    db.session.execute(update(Fulfillment).where(Fulfillment.id.in_(ids))
                       .values(rma_number=report.rma_number, updated_at=at))
    refund = f", refund {report.refund_amount:.2f}" if report.refund_amount is not None else ""
    detail = f"RMA {report.rma_number} pending{refund}. {report.comment}".strip()
    for fid in ids:
        rules.record(fid, source="api", actor=actor, status=current[fid], detail=detail)
