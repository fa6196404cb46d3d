"""The audit trail: who changed what in the admin area, when, and from where.

Every admin change (house and carrier accounts and which of their credentials changed —
never the values —, API users, users and roles, product assignments, resolutions in the
failed review) calls ``record`` in the same transaction as the change, so a change and
its audit line are committed or rolled back together. The Admin › Audit log page lists
them (``dashboard.admin.audit_log``).
"""
from __future__ import annotations

from datetime import datetime

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import DateTime, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.extensions import db
from dashboard.models import utcnow

#: what the log page filters by: the kind of thing changed
SUBJECTS = {
    "house_account": "House account",
    "carrier_account": "Carrier account",
    "api_user": "API user",
    "user": "User",
    "product": "Product",
    "fulfillment": "Failed review",
}


class AuditEvent(db.Model):
    """One admin change."""

    __table_args__ = (Index("ix_audit_event_subject", "subject", "created_at", "id"),
                      Index("ix_audit_event_created", "created_at", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: the dashboard user's email, or "cli" for a command run on the server
    actor: Mapped[str] = mapped_column(String(254), index=True)
    #: the caller's address as the app sees it (after ProxyFix), empty for the CLI
    address: Mapped[str] = mapped_column(String(64), default="")
    #: a key of SUBJECTS
    subject: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int | None] = mapped_column()
    #: a short verb phrase: "created", "credentials changed", "deleted"...
    action: Mapped[str] = mapped_column(String(60))
    #: a sentence naming the object and what changed; never a secret's value
    detail: Mapped[str] = mapped_column(Text, default="")


def record(subject: str, subject_id: int | None, action: str, detail: str = "") -> None:
    """Add an audit line for a change by the current dashboard user (or the CLI); it is
    committed with the change."""
    if has_request_context():
        actor = current_user.email if current_user.is_authenticated else "anonymous"
        address = request.remote_addr or ""
    else:
        actor, address = "cli", ""
    db.session.add(AuditEvent(subject=subject, subject_id=subject_id, action=action[:60],
                              detail=detail[:2000], actor=actor, address=address[:64],
                              created_at=utcnow()))


def changed_fields(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Names of the credential fields whose values differ (the values are not returned)."""
    return sorted(name for name in set(before) | set(after)
                  if before.get(name, "") != after.get(name, ""))
