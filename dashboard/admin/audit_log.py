"""Admin › Audit log: the audit trail (``dashboard.services.audit``), newest first, filtered by
what was changed and by whom; admins only."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import select

from dashboard.access import admin_blueprint
from dashboard.extensions import db
from dashboard.pagination import keyset_page, parse_after
from dashboard.services.audit import SUBJECTS, AuditEvent

bp = Blueprint("audit_log", __name__, url_prefix="/admin/audit", template_folder="templates")
admin_blueprint(bp)


@bp.route("/")
def index():
    subject = request.args.get("subject", "")
    actor = request.args.get("actor", "").strip()[:254]
    stmt = select(AuditEvent)
    if subject in SUBJECTS:
        stmt = stmt.where(AuditEvent.subject == subject)
    if actor:
        stmt = stmt.where(AuditEvent.actor == actor.lower())
    page = keyset_page(db.session, stmt, AuditEvent.id, parse_after(request.args.get("after")),
                       current_app.config["PAGE_SIZE"])
    return render_template("audit/index.html", page=page, subjects=SUBJECTS,
                           subject=subject if subject in SUBJECTS else "", actor=actor)
