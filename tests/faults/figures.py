"""The figures each fault test reports, gathered into the suite's table."""
from __future__ import annotations

FIGURES: list[dict] = []


def report(fault: str, done: str, **figures) -> None:
    """Add one row to the suite's table."""
    FIGURES.append({"fault": fault, "what was done": done, **figures})


def census(app, ids, house_state) -> dict:
    """Where the records stand and what the house holds: the suite's figures."""
    from sqlalchemy import select

    from dashboard.extensions import db
    from dashboard.models import Fulfillment
    with app.app_context():
        rows = db.session.execute(select(Fulfillment.id, Fulfillment.status,
                                         Fulfillment.reference)
                                  .where(Fulfillment.id.in_(ids))).all()
    statuses = {}
    for _id, status, _ref in rows:
        statuses[status] = statuses.get(status, 0) + 1
    creations = house_state.creations
    return {"records": len(ids), "statuses": statuses,
            "lost": len(ids) - len(rows) + sum(1 for _i, s, r in rows
                                               if s == "pending" and creations[r] == 0),
            "duplicated": sum(1 for _i, _s, r in rows if creations[r] > 1),
            "failed": statuses.get("failed", 0),
            "at_house": sum(1 for _i, _s, r in rows if creations[r] >= 1)}
