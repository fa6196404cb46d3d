"""The fulfillment status rules: the only code that changes a fulfillment's status.

Every move is a guarded UPDATE (``WHERE status = <the status we read>``), so two writers
cannot both move one record, and it writes its event in the same transaction. A move the
rules refuse raises ``RefusedMove`` and changes nothing. A late or repeated report (a
"shipped" scan after Delivered, a webhook delivered twice) changes nothing either but is
recorded on the timeline as not applied.

The caller owns the transaction: these functions flush, they never commit.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

from sqlalchemy import Integer, any_, bindparam, column, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import object_session

from adapters.base import CarrierStatus
from dashboard.clock import now
from dashboard.extensions import db
from dashboard.models import Fulfillment, FulfillmentEvent


class Status(enum.StrEnum):
    HOLD = "hold"
    PENDING = "pending"
    PENDING_SHIPMENT = "pending_shipment"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").title()

    @property
    def wire(self) -> str:
        """The upper-case word the Konnektive-compatible API uses."""
        return self.value.upper()


#: allowed moves, from product.md; everything else is refused
ALLOWED: dict[Status, frozenset[Status]] = {
    Status.HOLD: frozenset({Status.PENDING, Status.FAILED, Status.CANCELLED,
                            Status.PENDING_SHIPMENT}),
    Status.PENDING: frozenset({Status.PENDING_SHIPMENT, Status.FAILED, Status.CANCELLED}),
    Status.PENDING_SHIPMENT: frozenset({Status.SHIPPED, Status.DELIVERED, Status.RETURNED}),
    Status.SHIPPED: frozenset({Status.DELIVERED, Status.RETURNED}),
    Status.DELIVERED: frozenset({Status.RETURNED}),
    Status.FAILED: frozenset({Status.HOLD, Status.CANCELLED}),
    Status.CANCELLED: frozenset(),
    Status.RETURNED: frozenset(),
}

#: statuses a record has left the house for, in the order a shipment lives them
_PROGRESS = {Status.PENDING: 1, Status.PENDING_SHIPMENT: 2, Status.SHIPPED: 3,
             Status.DELIVERED: 4, Status.RETURNED: 5}

#: rows per UPDATE statement (SQLite caps bound parameters per statement)
_CHUNK = 500

# The named groups of statuses; code elsewhere asks these, never lists statuses itself.

#: statuses in which nothing more will happen
FINAL = frozenset({Status.CANCELLED, Status.RETURNED})
#: statuses whose records a house or carrier still moves
OPEN = frozenset({Status.HOLD, Status.PENDING, Status.PENDING_SHIPMENT, Status.SHIPPED})
#: what still needs someone: open records, and failed ones waiting for support
UNFINISHED = OPEN | {Status.FAILED}
#: the house does not have it: its address and house account may change, staff may cancel it
NOT_AT_HOUSE = frozenset({Status.HOLD, Status.FAILED})
#: sent and not yet delivered: a house that ships in seconds is followed while one is here
ON_ITS_WAY = frozenset({Status.PENDING, Status.PENDING_SHIPMENT, Status.SHIPPED})
#: a label exists and the package is not delivered: its carrier is followed
IN_TRANSIT = frozenset({Status.PENDING_SHIPMENT, Status.SHIPPED})
#: the house shipped it and it has not come back: it may be reshipped or get an RMA
SHIPPED_OUT = IN_TRANSIT | {Status.DELIVERED}
#: the house shipped it, whatever happened since: a pull house must not export it again
EVER_SHIPPED = SHIPPED_OUT | {Status.RETURNED}


def values(statuses: Iterable[Status]) -> list[str]:
    """The stored words of ``statuses``, for a query's ``IN (...)``."""
    return sorted(s.value for s in statuses)


class RefusedMove(ValueError):
    """The status rules do not allow this move; nothing was changed."""

    def __init__(self, fulfillment_id: int, current: str, target: str):
        self.fulfillment_id = fulfillment_id
        self.current = Status(current)
        self.target = Status(target)
        super().__init__(
            f"Fulfillment {fulfillment_id} cannot move from {self.current.label} to "
            f"{self.target.label}.")


class UnknownFulfillment(LookupError):
    pass


class ConcurrentMove(RuntimeError):
    """Other writers kept moving the record while we tried."""


def is_allowed(current: str, target: str) -> bool:
    return Status(target) in ALLOWED[Status(current)]


def is_late(current: str, target: str) -> bool:
    """A report of something the record has already been through: recorded, not applied.

    Moving back to Hold is always a deliberate act, so it is never "late"; a staff resend
    of a Delivered record is refused, not ignored.
    """
    current, target = Status(current), Status(target)
    if current == target:
        return target != Status.HOLD
    return (target in _PROGRESS and current in _PROGRESS
            and _PROGRESS[current] >= _PROGRESS[target])


class Why(enum.Enum):
    """Why ``move_many`` left a record alone."""

    #: the rules do not allow the move from the status it is in
    RULES = "rules"
    #: there is no such fulfillment
    UNKNOWN = "unknown"
    #: another writer moved it between our read and our update
    CHANGED = "changed"


@dataclass(frozen=True)
class Refusal:
    """One record ``move_many`` did not move, and why."""

    why: Why
    #: the status it is in, when the rules refused the move from it
    current: Status | None = None

    @classmethod
    def by_rules(cls, current: str) -> Refusal:
        return cls(Why.RULES, Status(current))

    def sentence(self, fulfillment_id: int, target: Status) -> str:
        """The refusal in words, as ``move`` would raise it."""
        if self.why is Why.UNKNOWN:
            return f"Fulfillment {fulfillment_id} does not exist."
        if self.why is Why.CHANGED:
            return f"Fulfillment {fulfillment_id} kept changing; try again."
        return str(RefusedMove(fulfillment_id, self.current, target))


UNKNOWN = Refusal(Why.UNKNOWN)
CHANGED = Refusal(Why.CHANGED)


@dataclass
class BulkResult:
    moved: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    #: id -> why it was not moved
    refused: dict[int, Refusal] = field(default_factory=dict)


def _session():
    return db.session


def _on_postgresql(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _among(session, col, ids: list[int]):
    """``col IN ids``; on PostgreSQL as ``= ANY(array)``, one parameter, so the statement's
    text is the same whatever the number of ids (compiled and parsed once)."""
    if _on_postgresql(session):
        return col == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return col.in_(ids)


_EVENT_COLUMNS = ("fulfillment_id", "from_status", "to_status", "source", "actor", "detail",
                  "applied", "created_at")


def _insert_events(session, events: Sequence[Mapping[str, Any]]) -> None:
    """Timeline rows in one statement. On PostgreSQL an ``INSERT ... SELECT`` from
    ``unnest`` of one array per column: one round trip and no statement work per row (100
    events took about two thirds of a pipelined executemany's time); elsewhere one
    executemany."""
    if not events:
        return
    table = FulfillmentEvent.__table__
    if not _on_postgresql(session):
        session.execute(insert(table), list(events))
        return
    rows = func.unnest(*(
        bindparam("_e_" + name, [event[name] for event in events],
                  type_=ARRAY(table.c[name].type)) for name in _EVENT_COLUMNS)
    ).table_valued(*(column(name, table.c[name].type) for name in _EVENT_COLUMNS)
                   ).render_derived(name="e")
    session.execute(insert(table).from_select(list(_EVENT_COLUMNS), select(*rows.c)))


def _event_row(fid: int, current: str | None, target: str, source: str, actor: str, detail: str,
               applied: bool, at: datetime) -> dict[str, Any]:
    return {"fulfillment_id": fid, "from_status": current, "to_status": target,
            "source": source, "actor": actor or "", "detail": detail or "",
            "applied": applied, "created_at": at}


def move(fulfillment_id: int, target: Status | str, *, source: str, actor: str = "",
         detail: str = "", values: Mapping[str, Any] | None = None,
         where: Iterable[Any] = ()) -> bool:
    """Move one fulfillment to ``target`` and record the event.

    :param values: other columns to set in the same UPDATE (tracking number, dates)
    :param where: extra guards for the UPDATE (e.g. the dispatcher's claim token)
    :return: True when it moved; False for a late or repeated report (recorded, unchanged)
    :raise RefusedMove: the rules refuse it
    :raise UnknownFulfillment: no such fulfillment
    """
    for _attempt in range(3):  # another writer got there first: read again and decide again
        result = move_many([fulfillment_id], target, source=source, actor=actor,
                           detail=detail, values={fulfillment_id: dict(values or {})},
                           where=where)
        if result.refused.get(fulfillment_id) != CHANGED:
            break
    refusal = result.refused.get(fulfillment_id)
    if refusal == UNKNOWN:
        raise UnknownFulfillment(f"Fulfillment {fulfillment_id} does not exist.")
    if refusal == CHANGED:
        raise ConcurrentMove(f"Fulfillment {fulfillment_id} kept changing; try again.")
    if refusal is not None:
        raise RefusedMove(fulfillment_id, refusal.current, target)
    return fulfillment_id in result.moved


def move_many(ids: Iterable[int], target: Status | str, *, source: str, actor: str = "",
              detail: str = "", values: Mapping[int, Mapping[str, Any]] | None = None,
              common: Mapping[str, Any] | None = None, where: Iterable[Any] = (),
              details: Mapping[int, str] | None = None) -> BulkResult:
    """Move many fulfillments at once: a few statements per call, never one per record.

    ``values`` gives per-record columns, ``common`` columns for all, ``details`` per-record
    event details. ``refused`` says for each record left alone why (a ``Refusal``).
    """
    target = Status(target)
    session = _session()
    session.flush()
    ids = list(dict.fromkeys(ids))
    result = BulkResult()
    if not ids:
        return result
    at = now()
    values = values or {}
    common = dict(common or {})
    details = details or {}
    where = list(where)
    current = dict(session.execute(
        select(Fulfillment.id, Fulfillment.status).where(
            _among(session, Fulfillment.id, ids))).all())

    movable: dict[str, list[int]] = {}
    events: list[dict[str, Any]] = []
    for fid in ids:
        state = current.get(fid)
        if state is None:
            result.refused[fid] = UNKNOWN
        elif is_allowed(state, target):
            movable.setdefault(state, []).append(fid)
        elif is_late(state, target):
            result.unchanged.append(fid)
            events.append(_event_row(fid, state, state, source, actor,
                                     _late_detail(target, details.get(fid, detail)), False, at))
        else:
            result.refused[fid] = Refusal.by_rules(state)

    table = Fulfillment.__table__
    postgresql = _on_postgresql(session)
    for state, whole_group in movable.items():
        base = {"status": target.value, "updated_at": at, **common}
        for start in range(0, len(whole_group), _CHUNK):
            group = whole_group[start:start + _CHUNK]
            keys = sorted({k for fid in group for k in values.get(fid, {})})
            guard = [table.c.status == state, *where]
            if postgresql:  # the moves and their events in one statement
                moved_now = _move_and_record(
                    session, group, keys, values, base, guard,
                    _event_row(0, state, target, source, actor, "", True, at),
                    [details.get(fid, detail) for fid in group])
            elif keys:  # SQLite: one executemany, then one read of who moved
                session.execute(
                    update(table).where(table.c.id == bindparam("_id"), *guard)
                    .values(**base, **{k: bindparam("_v_" + k) for k in keys}),
                    [{"_id": fid, **{"_v_" + k: values.get(fid, {}).get(k) for k in keys}}
                     for fid in group])
                moved_now = set(session.scalars(select(table.c.id).where(
                    table.c.id.in_(group), table.c.status == target.value,
                    table.c.updated_at == at)))
            else:
                moved_now = set(session.scalars(
                    update(table).where(table.c.id.in_(group), *guard).values(**base)
                    .returning(table.c.id)))
            for fid in group:
                if fid in moved_now:
                    result.moved.append(fid)
                    if not postgresql:
                        events.append(_event_row(fid, state, target, source, actor,
                                                 details.get(fid, detail), True, at))
                else:  # another writer moved it between our read and our update
                    result.refused[fid] = CHANGED
    _insert_events(session, events)
    _expire_loaded(session, result.moved)
    return result


def _move_and_record(session, group: list[int], keys: list[str],
                     values: Mapping[int, Mapping[str, Any]], base: Mapping[str, Any],
                     guard: list[Any], event: Mapping[str, Any], details: list[str]) -> set[int]:
    """PostgreSQL: move ``group`` and write the event of each record moved, in one round
    trip: ``UPDATE ... FROM unnest(arrays)`` (each row its own ``values``) ``RETURNING`` the
    ids it moved, inside the ``INSERT`` of their events. ``event`` gives the columns all the
    events share, ``details`` each one's detail in ``group``'s order. Returns the ids moved.
    """
    table, events = Fulfillment.__table__, FulfillmentEvent.__table__
    rows = func.unnest(
        bindparam("_ids", group, type_=ARRAY(Integer)),
        bindparam("_details", details, type_=ARRAY(events.c.detail.type)),
        *(bindparam("_a_" + k, [values.get(fid, {}).get(k) for fid in group],
                    type_=ARRAY(table.c[k].type)) for k in keys),
    ).table_valued(column("_id", Integer), column("_detail", events.c.detail.type),
                   *(column(k, table.c[k].type) for k in keys)).render_derived(name="v")
    moved = (update(table).where(table.c.id == rows.c._id, *guard)
             .values(**base, **{k: rows.c[k] for k in keys})
             .returning(table.c.id, rows.c._detail).cte("moved"))
    shared = [bindparam("_e_" + name, event[name], type_=events.c[name].type)
              for name in _EVENT_COLUMNS[1:]]
    shared[_EVENT_COLUMNS.index("detail") - 1] = moved.c._detail
    written = (insert(events).from_select(list(_EVENT_COLUMNS), select(moved.c.id, *shared))
               .returning(events.c.fulfillment_id).add_cte(moved))
    return set(session.scalars(written))


def _expire_loaded(session, ids: list[int]) -> None:
    """Objects of moved records already loaded in this session must not show the old
    status; expire just those, not the whole session."""
    for fid in ids:
        obj = session.identity_map.get(session.identity_key(Fulfillment, fid))
        if obj is not None and object_session(obj) is session:
            session.expire(obj)


def record(fulfillment_id: int, *, source: str, actor: str = "", detail: str,
           status: str) -> None:
    """Add a timeline line that moves nothing (an address fixed, a cancel sent)."""
    record_many([(fulfillment_id, status, detail)], source=source, actor=actor)


def record_many(lines: Sequence[tuple[int, str, str]], *, source: str, actor: str = "",
                at: datetime | None = None) -> None:
    """Timeline lines that move nothing, (fulfillment id, its status, detail), in one
    statement."""
    if lines:
        at = at or now()
        _insert_events(_session(), [
            _event_row(fid, status, status, source, actor, detail, True, at)
            for fid, status, detail in lines])


def create(records: Sequence[tuple[Fulfillment, str]], *, source: str, actor: str = "",
           at: datetime | None = None) -> None:
    """Add new fulfillments, each in Hold with its first timeline event (its detail says
    why it exists: an order placed, a reshipment). The records are flushed, so they have
    their ids."""
    if not records:
        return
    session = _session()
    at = at or now()
    for fulfillment, _detail in records:
        fulfillment.status = Status.HOLD.value
        session.add(fulfillment)
    session.flush()
    _insert_events(session, [
        _event_row(f.id, None, Status.HOLD.value, source, actor, detail, True, at)
        for f, detail in records])


def package_outcome(carrier_states: set[str], delivered_at: Sequence[datetime | None],
                    at: datetime) -> tuple[Status | None, dict[str, Any]]:
    """What a fulfillment's packages say it is, with the columns that go with it:
    Returned when one came back, Delivered when all arrived (at the last delivery),
    Shipped once one is moving; None while they say nothing yet."""
    if CarrierStatus.RETURNED in carrier_states:
        return Status.RETURNED, {"returned_at": at}
    if carrier_states == {CarrierStatus.DELIVERED}:
        return Status.DELIVERED, {"delivered_at": max(d or at for d in delivered_at)}
    if carrier_states & {CarrierStatus.IN_TRANSIT, CarrierStatus.DELIVERED}:
        return Status.SHIPPED, {}
    return None, {}


def _late_detail(target: Status, detail: str) -> str:
    note = f"Late or repeated report of {target.label}; status unchanged."
    return f"{note} {detail}".strip()
