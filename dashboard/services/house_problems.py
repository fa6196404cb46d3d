"""What a house says is wrong with an order it accepted, applied to our records.

Real houses rarely refuse a bad order when it is created: they take it, then hold it or
raise an exception on it (houses.md, "What real houses do with a bad order"). Adapters
report that as ``TrackingInfo.problem``; tracking polls and webhooks both hand it to
``apply_problems``:

- a **final** problem (the house will not ship the order as it is) moves the record to
  Failed through the status rules, with the typed reason and the house's words, so it
  lands in the failed review like a refusal at create time;
- a problem the house may still clear by itself (a stock hold) leaves the record
  **held at the house**: still Pending, with ``failure_reason`` and ``failure_message``
  set to what the house said.

Held at the house is a flag on a Pending record, not a status of its own. Pending means
"the house has it", which stays true while it is held; the house can release and ship it
without anything from us, and Pending → Pending Shipment must then simply happen. A new
status would add moves to product.md's table and a word to the Konnektive-compatible API
that pull clients do not know. So the flag lives in the columns the failed review already
reads, and the status board counts it among the stuck kinds. Setting or clearing it
changes no status (the status rules' ``record`` writes its timeline line); it is cleared
when the house releases the order (``release_held``) or ships it (``tracking``).
"""
from __future__ import annotations

from typing import Iterable, Mapping

from sqlalchemy import bindparam, select, update

from adapters.base import HouseProblem
from dashboard import status as rules
from dashboard.extensions import db
from dashboard.models import Fulfillment
from dashboard.status import Status

#: a held record's columns when the house has let it go
CLEARED = {"failure_reason": None, "failure_message": ""}


def apply_problems(problems: Mapping[int, HouseProblem], *, source: str,
                   actor: str) -> tuple[int, str]:
    """Fail or hold each fulfillment as its house's problem says. Returns how many moved
    to Failed and one sentence saying what happened. A held record is only written (and
    its timeline told) when the house's words change, so a hold seen at every check leaves
    one line. Does not commit."""
    if not problems:
        return 0, "The house reported no problem."
    failed = 0
    final = {fid: p for fid, p in problems.items() if p.final}
    held = {fid: p for fid, p in problems.items() if not p.final}
    parts = []
    if final:
        result = rules.move_many(
            final, Status.FAILED, source=source, actor=actor,
            values={fid: {"failure_reason": p.reason.value, "failure_message": p.message[:4000]}
                    for fid, p in final.items()},
            details={fid: f"The house will not ship it ({p.reason.value}): {p.message[:900]}"
                     for fid, p in final.items()})
        failed = len(result.moved)
        parts.append(f"{failed} failed at the house")
        if result.refused:
            parts.append(f"{len(result.refused)} refused by the status rules")
    if held:
        parts.append(f"{_hold(held, source=source, actor=actor)} held at the house")
    words = "; ".join(dict.fromkeys(p.message for p in problems.values()))
    return failed, f"{', '.join(parts)}: {words}"[:2000]


def _hold(held: Mapping[int, HouseProblem], *, source: str, actor: str) -> int:
    """Flag the Pending records among ``held`` whose hold is new or newly worded."""
    current = dict(db.session.execute(
        select(Fulfillment.id, Fulfillment.failure_message)
        .where(Fulfillment.id.in_(list(held)), Fulfillment.status == Status.PENDING.value)
    ).all())
    changed = [fid for fid, message in current.items() if message != held[fid].message[:4000]]
    if changed:
        table = Fulfillment.__table__
        db.session.execute(
            update(table).where(table.c.id == bindparam("_id"),
                                table.c.status == Status.PENDING.value)
            .values(failure_reason=bindparam("_reason"), failure_message=bindparam("_message")),
            [{"_id": fid, "_reason": held[fid].reason.value,
              "_message": held[fid].message[:4000]} for fid in changed])
        for fid in changed:
            rules.record(fid, source=source, actor=actor, status=Status.PENDING.value,
                         detail=f"Held at the house ({held[fid].reason.value}): "
                                f"{held[fid].message[:900]}")
    return len(current)


def release_held(ids: Iterable[int], *, source: str, actor: str) -> int:
    """The house says these orders are moving normally again: clear the held flag of
    those that had one, with a timeline line each. Returns how many were released."""
    ids = list(ids)
    if not ids:
        return 0
    released = list(db.session.scalars(
        select(Fulfillment.id).where(Fulfillment.id.in_(ids),
                                     Fulfillment.status == Status.PENDING.value,
                                     Fulfillment.failure_reason.is_not(None))))
    if released:
        db.session.execute(update(Fulfillment).where(
            Fulfillment.id.in_(released), Fulfillment.status == Status.PENDING.value)
            .values(**CLEARED))
        for fid in released:
            rules.record(fid, source=source, actor=actor, status=Status.PENDING.value,
                         detail="Released by the house; it is no longer held.")
    return len(released)


def is_held(status: str, failure_reason: str | None) -> bool:
    """Whether a record in ``status`` with ``failure_reason`` is held at the house."""
    return status == Status.PENDING.value and failure_reason is not None
