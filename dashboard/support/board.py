"""The status board: where every fulfillment stands, what is stuck, the last two weeks,
and whether the job queue is healthy. Every number is an aggregate query; nothing here
runs a query per record. The counts per status × account come from a ledger the database
keeps (``dashboard.services.status_counts``), so they cost the same at any table size."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from flask import Blueprint, current_app, render_template
from rq.registry import FailedJobRegistry
from rq_scheduler import Scheduler
from sqlalchemy import func, select

from dashboard.clock import now
from dashboard.extensions import db
from dashboard.models import DispatchRun, Fulfillment, FulfillmentEvent, HouseAccount, Order
from dashboard.redis_conn import connection
from dashboard.services import status_counts
from dashboard.services.queue import queue
from dashboard.status import UNFINISHED, Status
from dashboard.support.filters import STUCK
from jobs.schedule import SCHEDULES

bp = Blueprint("board", __name__, template_folder="templates")
log = logging.getLogger(__name__)

#: statuses whose waiting time means something (the rest are where records end up)
WAITING = [s for s in Status if s in UNFINISHED]
#: the chart's series: the status an event moved a record to, and its legend
CHART_SERIES = ((Status.PENDING, "Sent"), (Status.SHIPPED, "Shipped"),
                (Status.DELIVERED, "Delivered"), (Status.FAILED, "Failed"))
CHART_DAYS = 14
#: records shown per stuck list (the link leads to all of them)
STUCK_SAMPLE = 5
#: a stuck list's count stops here ("10,000+"): past it the number says nothing more to
#: support, and counting further would make the board grow with the backlog
STUCK_COUNT_CAP = 10_000


@bp.route("/")
def index():
    at = now()
    counts = status_counts.counts()
    totals: dict[str, int] = {}
    for (_account_id, status), n in counts.items():
        totals[status] = totals.get(status, 0) + n
    accounts = db.session.execute(select(HouseAccount.id, HouseAccount.title, HouseAccount.active)
                                  .order_by(HouseAccount.title)).all()
    return render_template("board/index.html", statuses=list(Status), accounts=accounts,
                           counts=counts, totals=totals, oldest=_oldest_waiting(),
                           stuck=_stuck(at), chart=_chart(at), health=queue_health(),
                           last_run=db.session.scalar(
                               select(DispatchRun).order_by(DispatchRun.id.desc()).limit(1)))


def _oldest_waiting() -> dict[str, datetime]:
    """Per waiting status, when its longest-waiting record got there: one row, each value
    a lookup at the start of the (status, updated_at) index."""
    row = db.session.execute(select(*[
        select(func.min(Fulfillment.updated_at)).where(Fulfillment.status == s.value)
        .scalar_subquery().label(s.value) for s in WAITING])).one()
    return {s.value: value for s, value in zip(WAITING, row, strict=True) if value is not None}


@dataclass
class StuckList:
    key: str
    label: str
    hint: str
    #: counted up to STUCK_COUNT_CAP + 1
    count: int
    sample: list = field(default_factory=list)

    @property
    def shown(self) -> str:
        """The count as the board writes it: "10,000+" past the cap."""
        return f"{STUCK_COUNT_CAP:,}+" if self.count > STUCK_COUNT_CAP else f"{self.count:,}"


def _stuck(at: datetime) -> list[StuckList]:
    """Each stuck kind's count, up to the cap (one query for all), and its oldest few
    records."""
    counts = db.session.execute(select(*[
        select(func.count()).select_from(
            select(Fulfillment.id).where(kind.condition(at)).limit(STUCK_COUNT_CAP + 1)
            .subquery()).scalar_subquery() for kind in STUCK.values()])).one()
    lists = []
    for (key, kind), count in zip(STUCK.items(), counts, strict=True):
        sample = []
        if count:
            # the oldest few first, from the index alone, and only they are joined: a
            # kind over several statuses (tracking stale) would otherwise join its whole
            # set to the orders before sorting it
            oldest = (select(Fulfillment.id).where(kind.condition(at))
                      .order_by(kind.since, Fulfillment.id).limit(STUCK_SAMPLE).subquery())
            sample = db.session.execute(
                select(Fulfillment.id, Fulfillment.order_id, Fulfillment.reference,
                       kind.since.label("since"), Order.first_name, Order.last_name,
                       HouseAccount.title)
                .join(oldest, Fulfillment.id == oldest.c.id)
                .join(Order, Fulfillment.order_id == Order.id)
                .join(HouseAccount, Fulfillment.house_account_id == HouseAccount.id)
                .order_by(kind.since, Fulfillment.id)).all()
        lists.append(StuckList(key, kind.label, kind.hint, count, sample))
    return lists


@dataclass
class Chart:
    days: list[str]
    #: (status value, legend, counts per day)
    series: list[tuple[str, str, list[int]]]
    peak: int


def _chart(at: datetime) -> Chart:
    """Moves per day over the last two weeks. Days before today no longer change, so
    their counts are kept in Redis; one aggregate query counts today and any day not kept
    yet (all fourteen when Redis is down)."""
    today = datetime.combine(at.date(), datetime.min.time())
    days = [(today - timedelta(days=n)).strftime("%Y-%m-%d")
            for n in range(CHART_DAYS - 1, -1, -1)]
    found = _kept_days(days[:-1])
    missing = [d for d in days if d not in found]
    start = datetime.strptime(missing[0], "%Y-%m-%d")
    day = func.date(FulfillmentEvent.created_at)
    rows = db.session.execute(
        select(day, FulfillmentEvent.to_status, func.count())
        .where(FulfillmentEvent.to_status.in_([s.value for s, _ in CHART_SERIES]),
               FulfillmentEvent.created_at >= start, FulfillmentEvent.applied.is_(True),
               FulfillmentEvent.from_status != FulfillmentEvent.to_status)
        .group_by(day, FulfillmentEvent.to_status)).all()
    counted: dict[str, dict[str, int]] = {d: {} for d in missing}
    for d, status, n in rows:
        if str(d)[:10] in counted:
            counted[str(d)[:10]][status] = n
    _keep_days({d: c for d, c in counted.items() if d != days[-1]})
    found.update(counted)
    series = [(s.value, legend, [found[d].get(s.value, 0) for d in days])
              for s, legend in CHART_SERIES]
    return Chart(days, series, max([1] + [n for _s, _l, values in series for n in values]))


def _chart_key(day: str) -> str:
    return f"{current_app.config['RQ_QUEUE']}:board-chart:{day}"


def _kept_days(days: list[str]) -> dict[str, dict[str, int]]:
    """The counts kept for past ``days``; days not kept (or no Redis) are absent."""
    try:
        values = connection().mget([_chart_key(d) for d in days])
    except (redis.RedisError, OSError):
        return {}
    return {d: json.loads(v) for d, v in zip(days, values, strict=True) if v is not None}


def _keep_days(counts: dict[str, dict[str, int]]) -> None:
    if not counts:
        return
    try:
        with connection().pipeline() as pipe:
            for d, by_status in counts.items():
                pipe.set(_chart_key(d), json.dumps(by_status), ex=(CHART_DAYS + 1) * 86400)
            pipe.execute()
    except (redis.RedisError, OSError) as exc:
        log.warning("the board could not keep its chart in Redis: %s", exc)


@dataclass
class QueueHealth:
    reachable: bool
    queued: int = 0
    failed: int = 0
    #: scheduled job description -> its next run (UTC)
    next_runs: list[tuple[str, datetime]] = field(default_factory=list)


def queue_health() -> QueueHealth:
    """Jobs waiting and failed on the RQ queue and the next scheduled runs; a Redis that
    does not answer makes the board say so instead of failing."""
    try:
        q = queue()
        queued = q.count
        failed = FailedJobRegistry(queue=q).count
        described = {entry.id: entry.description for entry in SCHEDULES}
        scheduler = Scheduler(queue_name=q.name, connection=q.connection)
        runs = sorted(((described[job.id], at) for job, at in
                       scheduler.get_jobs(with_times=True) if job.id in described),
                      key=lambda pair: pair[1])
    except (redis.RedisError, OSError) as exc:
        log.warning("the board could not reach Redis: %s", exc)
        return QueueHealth(False)
    return QueueHealth(True, queued, failed, runs)
