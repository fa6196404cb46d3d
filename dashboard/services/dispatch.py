"""Sending held fulfillments to their houses.

A run claims due Hold records in chunks with one atomic UPDATE (``FOR UPDATE SKIP LOCKED``
on PostgreSQL; ``BEGIN IMMEDIATE`` on SQLite), commits the claim, and only then calls the
house. Each house batch's outcomes are written in one transaction through the status
rules. A claim that was never released (the worker died) or a send that timed out leaves
the outcome unknown: before such a record is sent again, the house is asked for our key.
Records stay Hold until a house accepts or rejects them; a house that is down, slow or
rate-limiting only delays them.
"""
from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from adapters import push_houses
from adapters.base import (
    Accepted,
    AdapterError,
    Address,
    OrderLine,
    OrderPayload,
    Rejected,
    SentOrder,
    Transient,
)
from dashboard import status as rules
from dashboard.clock import now
from dashboard.extensions import db
from dashboard.models import DispatchRun, Fulfillment, FulfillmentItem, HouseAccount, Order
from dashboard.services import house_terms
from dashboard.services.house_accounts import adapter_for, sleeper
from dashboard.status import Status

log = logging.getLogger(__name__)


@dataclass
class Summary:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    skipped_run: bool = False
    errors: list[str] = field(default_factory=list)


def dispatch(*, run_key: str | None = None, account_id: int | None = None,
             fulfillment_ids: list[int] | None = None, ignore_due: bool = False,
             chunk: int | None = None) -> Summary:
    """Send every due held fulfillment (or only those of one account, or the given ids).

    :param run_key: a scheduled slot ("hourly:2026-11-28T20"); a second firing of the same
        slot finds its record and sends nothing
    """
    summary = Summary()
    run = None
    if run_key:
        run = DispatchRun(run_key=run_key, kind=run_key.split(":")[0], started_at=now())
        db.session.add(run)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            summary.skipped_run = True
            log.info("dispatch slot %s already ran; nothing to do", run_key)
            return summary
    token = uuid.uuid4().hex
    size = chunk or current_app.config["DISPATCH_CHUNK"]
    #: one client per account for the whole run, so it keeps pace with the house's limits
    clients: dict[int, tuple] = {}
    #: account id -> seconds it asked us to wait, once it rate-limited or failed this run
    paused: dict[int, float] = {}
    claim_next = partial(claim, token, size, account_id=account_id, ids=fulfillment_ids,
                         ignore_due=ignore_due)
    try:
        for claimed in _claims(claim_next, ahead=fulfillment_ids is None):
            summary.claimed += len(claimed)
            _send_claimed(claimed, token, summary, clients, paused)
    except Exception as exc:  # the run's record says it failed; the exception still propagates
        summary.errors.append(str(exc))
        raise
    finally:
        if run is not None:
            db.session.rollback()
            db.session.execute(update(DispatchRun).where(DispatchRun.id == run.id).values(
                finished_at=now(), sent=summary.sent, failed=summary.failed,
                deferred=summary.deferred, error="; ".join(summary.errors)[:2000]))
            db.session.commit()
    log.info("dispatch: claimed %d, sent %d, failed %d, deferred %d", summary.claimed,
             summary.sent, summary.failed, summary.deferred)
    return summary


def _claims(claim_next, *, ahead: bool):
    """The run's chunks of claimed records, until a claim finds nothing (one chunk only
    unless ``ahead``). With ``ahead``, from the second chunk on, the next chunk is claimed
    in a thread with an app context and so a database session of its own while the caller
    sends this one: claiming and reading payloads then cost the send and record loop no
    time. A chunk claimed ahead and never sent (the run died) is like any claim never
    released: looked up at the house before it is sent again."""
    claimed = claim_next()
    if not claimed or not ahead:
        if claimed:
            yield claimed
        return
    app = current_app._get_current_object()

    def in_its_own_context():
        with app.app_context():
            return claim_next()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dispatch-claim") as claimer:
        while claimed:
            following = claimer.submit(in_its_own_context)
            yield claimed
            # the caller has committed what it sent; its session must hold no transaction
            # (on SQLite, no write lock) while the claim it waits for takes one
            db.session.rollback()
            claimed = following.result()


@dataclass(frozen=True)
class Claimed:
    """A record claimed by this run, with what its house needs."""
    account_id: int
    payload: OrderPayload
    #: a previous claim was never released, or a send may have reached the house: the
    #: house is asked for it before it is sent again
    unknown: bool


def claim(token: str, limit: int, *, account_id=None, ids=None, ignore_due=False
          ) -> dict[int, Claimed]:
    """Claim up to ``limit`` due Hold fulfillments for this run, commit the claim, and
    return them with their payloads. On PostgreSQL the claim's ``UPDATE ... RETURNING``
    and the read of the orders behind it are one statement (a data-modifying CTE)."""
    at = now()
    lease = at - timedelta(seconds=current_app.config["CLAIM_LEASE_SECONDS"])
    f, a = Fulfillment.__table__.c, HouseAccount.__table__.c
    conditions = [
        f.status == Status.HOLD.value,
        or_(f.claimed_at.is_(None), f.claimed_at < lease),
        a.active.is_(True),
        or_(a.paused_until.is_(None), a.paused_until <= at),
        a.adapter_key.in_(push_houses()),
    ]
    if not ignore_due:
        conditions.append(f.due_at <= at)
    if account_id is not None:
        conditions.append(f.house_account_id == account_id)
    if ids is not None:
        conditions.append(f.id.in_(ids))
    candidates = (select(f.id).select_from(Fulfillment.__table__.join(
        HouseAccount.__table__, f.house_account_id == a.id))
        .where(and_(*conditions)).order_by(f.due_at, f.id).limit(limit))
    postgresql = db.engine.dialect.name == "postgresql"
    if postgresql:
        candidates = candidates.with_for_update(of=Fulfillment.__table__, skip_locked=True)
    stmt = (update(Fulfillment.__table__).where(f.id.in_(candidates.scalar_subquery()))
            .values(claim_token=token, claimed_at=at, attempts=f.attempts + 1,
                    outcome_unknown=or_(f.outcome_unknown, f.claimed_at.is_not(None))))
    if postgresql:
        claimed = stmt.returning(*(f[name] for name in _CLAIMED_COLUMNS)).cte("claimed")
        loaded = _payloads_of(db.session.execute(_payload_query(claimed)).all())
    else:  # SQLite cannot read other tables in RETURNING: the claim, then the read
        loaded = _payloads(db.session.scalars(stmt.returning(f.id)).all())
    db.session.commit()
    return {fid: Claimed(account, payload, bool(unknown))
            for fid, (account, payload, unknown) in loaded.items()}


#: the fulfillment's part of a payload row
_CLAIMED_COLUMNS = ("id", "reference", "house_account_id", "ship_method", "carrier", "order_id",
                    "outcome_unknown")


def _payload_query(source):
    """The rows ``_payloads_of`` builds payloads from: ``source`` (the fulfillment table,
    or the claim's CTE) joined to the orders."""
    o = Order.__table__.c
    return select(*(source.c[name] for name in _CLAIMED_COLUMNS),
                  o.created_at, o.email, o.first_name, o.last_name, o.phone, o.address1,
                  o.address2, o.city, o.state, o.postal_code, o.country
                  ).join_from(source, Order.__table__, source.c.order_id == o.id)


def _payloads(ids: list[int]) -> dict[int, tuple[int, OrderPayload, bool]]:
    """What the houses need for ``ids``: id -> (account id, payload, outcome unknown)."""
    if not ids:
        return {}
    return _payloads_of(db.session.execute(_payload_query(Fulfillment.__table__).where(
        Fulfillment.__table__.c.id.in_(ids))).all())


def _payloads_of(rows) -> dict[int, tuple[int, OrderPayload, bool]]:
    """Payloads from ``_payload_query`` rows: id -> (account id, payload, outcome unknown),
    with the lines and the terms in a few more queries whatever the number of rows.

    Lines carry the house's SKU and the ship method and carrier are the ship profile's
    (``house_terms``)."""
    if not rows:
        return {}
    i = FulfillmentItem.__table__.c
    ids = [row.id for row in rows]
    items = db.session.execute(select(i.fulfillment_id, i.product_id, i.sku, i.name,
                                      i.quantity, i.price)
                               .where(i.fulfillment_id.in_(ids)).order_by(i.id)).all()
    terms = house_terms.terms_for({row.id: row.house_account_id for row in rows}, items)
    lines: dict[int, list[OrderLine]] = defaultdict(list)
    for item in items:
        lines[item.fulfillment_id].append(OrderLine(
            terms.sku(item.fulfillment_id, item.sku), item.name, item.quantity, item.price))
    result = {}
    for row in rows:
        ship_method, carrier = terms.ship_method(row.id, row.ship_method, row.carrier)
        result[row.id] = (row.house_account_id, OrderPayload(
            key=row.reference, order_number=f"{row.order_id}-{row.id}",
            order_date=row.created_at, customer_email=row.email,
            ship_to=Address(name=f"{row.first_name} {row.last_name}", address1=row.address1,
                            address2=row.address2, city=row.city, state=row.state,
                            postal_code=row.postal_code, country=row.country, phone=row.phone,
                            email=row.email),
            lines=tuple(lines[row.id]),
            ship_method=ship_method, carrier=carrier), row.outcome_unknown)
    return result


def _send_claimed(claimed: dict[int, Claimed], token: str, summary: Summary,
                  clients: dict[int, tuple], paused: dict[int, float]) -> None:
    by_account: dict[int, list[int]] = defaultdict(list)
    for fid, record in claimed.items():
        by_account[record.account_id].append(fid)
    for account_id in set(by_account) & set(paused):  # claimed before the account paused
        waiting = by_account.pop(account_id)
        _release(waiting, token, paused[account_id], _WAITING)
        summary.deferred += len(waiting)
    missing = [account_id for account_id in by_account if account_id not in clients]
    if missing:
        clients.update({a.id: (adapter_for(a), a.title) for a in db.session.scalars(
            select(HouseAccount).where(HouseAccount.id.in_(missing)))})
    payloads = {fid: record.payload for fid, record in claimed.items()}
    unknown = {fid: record.unknown for fid, record in claimed.items()}
    db.session.rollback()  # hold no transaction (no SQLite write lock) during HTTP calls
    send = partial(_outcomes_waiting_out_rate_limits, payloads=payloads, unknown=unknown,
                   limit=current_app.config["DISPATCH_MAX_INLINE_WAIT"], sleep=sleeper())
    # one sender thread calls the house while this thread records the previous batch, so
    # a run costs about max(house time, database time) rather than their sum
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dispatch-send") as sender:
        for account_id, fids in by_account.items():
            adapter, title = clients[account_id]
            size = max(1, adapter.batch_size)
            batches = [fids[start:start + size] for start in range(0, len(fids), size)]
            in_flight = sender.submit(send, adapter, batches[0])
            for n, batch in enumerate(batches):
                outcomes = in_flight.result()
                following = batches[n + 1] if n + 1 < len(batches) else None
                if following is not None:
                    in_flight = sender.submit(send, adapter, following)
                paused_for = _record(account_id, title, adapter, batch, outcomes, payloads,
                                     token, summary)
                if paused_for is None:
                    continue
                # rate limit or outage: what was already sent is recorded, the rest waits
                rest = batches[n + 1:]
                if following is not None:
                    _record(account_id, title, adapter, following, in_flight.result(),
                            payloads, token, summary)
                    rest = batches[n + 2:]
                waiting = [fid for part in rest for fid in part]
                _release(waiting, token, paused_for, _WAITING)
                summary.deferred += len(waiting)
                paused[account_id] = paused_for
                break


def _outcomes_waiting_out_rate_limits(adapter, batch, *, payloads, unknown, limit: float,
                                      sleep) -> dict[int, object]:
    """``_outcomes``, but a batch the house refused only for its rate limit is sent again
    after the short wait the house asks for (at most ``limit`` seconds), a few times at
    most (the claim's lease is far longer); a longer wait is left to ``_record``, which
    releases the orders. Runs in the sender thread: no app context, no database."""
    for _attempt in range(5):
        outcomes = _outcomes(adapter, batch, payloads, unknown)
        waits = [o.retry_after for o in outcomes.values()
                 if isinstance(o, Transient) and o.rate_limited]
        if len(waits) != len(outcomes) or not 0 < max(waits) <= limit:
            return outcomes
        sleep(max(waits) + 0.05)  # the house rounds its reset up to whole seconds
    return outcomes


def _outcomes(adapter, batch: list[int], payloads, unknown) -> dict[int, object]:
    """Ask the house about unknown outcomes, then send the rest; one outcome per id."""
    outcomes: dict[int, object] = {}
    to_look_up = [fid for fid in batch if unknown.get(fid)]
    if to_look_up:
        try:
            found = adapter.lookup_sent([SentOrder(payloads[fid].key, "",
                                                   payloads[fid].order_number)
                                         for fid in to_look_up])
        except AdapterError as exc:
            for fid in batch:
                outcomes[fid] = Transient(payloads[fid].key, f"Lookup failed: {exc}",
                                          exc.retry_after, maybe_received=True)
            return outcomes
        for fid in to_look_up:
            if payloads[fid].key in found:
                outcomes[fid] = found[payloads[fid].key]
    to_send = [fid for fid in batch if fid not in outcomes]
    if to_send:
        try:
            results = adapter.send([payloads[fid] for fid in to_send])
        except AdapterError as exc:
            results = [Transient(payloads[fid].key, str(exc), exc.retry_after,
                                 maybe_received=True) if exc.transient else
                       Rejected(payloads[fid].key, exc.reason, str(exc)) for fid in to_send]
        by_key = {r.key: r for r in results}
        for fid in to_send:
            outcomes[fid] = by_key.get(payloads[fid].key) or Transient(
                payloads[fid].key, "The house gave no answer for this order.",
                maybe_received=True)
    return outcomes


def _record(account_id: int, title: str, adapter, batch, outcomes, payloads, token: str,
            summary: Summary) -> float | None:
    """Write one batch's outcomes in one transaction. Returns a pause in seconds when the
    house is rate-limiting or down, else None."""
    at = now()
    guard = [Fulfillment.__table__.c.claim_token == token]
    release = {"claim_token": None, "claimed_at": None}
    accepted = {fid: o for fid, o in outcomes.items() if isinstance(o, Accepted)}
    rejected = {fid: o for fid, o in outcomes.items() if isinstance(o, Rejected)}
    transient = {fid: o for fid, o in outcomes.items() if isinstance(o, Transient)}
    cancelled_in_flight = []
    if accepted:
        result = rules.move_many(
            accepted, Status.PENDING, source="dispatch", actor=title,
            values={fid: {"house_reference": o.house_reference} for fid, o in accepted.items()},
            common={**release, "sent_at": at, "outcome_unknown": False, "last_error": "",
                    "next_check_at": at + timedelta(
                        seconds=adapter.check_interval or 300)},
            details={fid: f"Accepted by the house as {o.house_reference}."
                     for fid, o in accepted.items()}, where=guard)
        summary.sent += len(result.moved)
        cancelled_in_flight = [fid for fid, refusal in result.refused.items()
                               if refusal.current is Status.CANCELLED]
    if rejected:
        result = rules.move_many(
            rejected, Status.FAILED, source="dispatch", actor=title,
            values={fid: {"failure_reason": o.reason.value, "failure_message": o.message[:4000]}
                    for fid, o in rejected.items()},
            common={**release, "outcome_unknown": False, "last_error": ""},
            details={fid: f"Rejected by the house ({o.reason.value}): {o.message[:500]}"
                     for fid, o in rejected.items()}, where=guard)
        summary.failed += len(result.moved)
    pause = None
    if transient:
        f = Fulfillment.__table__.c
        for maybe in (True, False):
            group = [fid for fid, o in transient.items() if o.maybe_received is maybe]
            if not group:
                continue
            wait = max(transient[fid].retry_after for fid in group)
            db.session.execute(update(Fulfillment.__table__).where(
                f.id.in_(group), f.claim_token == token).values(
                **release, due_at=at + timedelta(seconds=wait),
                last_error=transient[group[0]].message[:1000],
                outcome_unknown=True if maybe else f.outcome_unknown))
        summary.deferred += len(transient)
        pause = max(o.retry_after for o in transient.values())
        account_row = HouseAccount.__table__.c
        db.session.execute(update(HouseAccount.__table__).where(
            account_row.id == account_id).values(paused_until=at + timedelta(seconds=pause)))
    db.session.commit()
    if cancelled_in_flight:
        _cancel_at_house(adapter, title, cancelled_in_flight, accepted, payloads)
    return pause


_WAITING = "Waiting: the house asked us to slow down."


def _release(ids: list[int], token: str, wait: float, message: str) -> None:
    if not ids:
        return
    f = Fulfillment.__table__.c
    db.session.execute(update(Fulfillment.__table__).where(
        f.id.in_(ids), f.claim_token == token).values(
        claim_token=None, claimed_at=None, due_at=now() + timedelta(seconds=wait),
        last_error=message))
    db.session.commit()


def _cancel_at_house(adapter, title: str, fids, accepted, payloads) -> None:
    """Staff cancelled these while they were on their way: cancel them at the house too."""
    for fid in fids:
        sent = SentOrder(payloads[fid].key, accepted[fid].house_reference,
                         payloads[fid].order_number)
        try:
            adapter.cancel(sent)
            detail = "Accepted by the house after it was cancelled here; cancel sent to the house."
        except AdapterError as exc:
            detail = (f"Accepted by the house after it was cancelled here; the house refused "
                      f"the cancel: {exc}. Cancel it in the house's own system.")
        rules.record(fid, source="dispatch", actor=title, detail=detail,
                     status=Status.CANCELLED.value)
    db.session.commit()
