"""Access checks as small decorators: every page needs a login (see ``create_app``);
these add the role a view needs."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user


def admin_required(view):
    """Only admins; support staff get 403 (they never see credentials or API users)."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def admin_blueprint(bp) -> None:
    """Make every view of ``bp`` admin-only."""
    @bp.before_request
    def _admins_only():
        if not current_user.is_authenticated or not current_user.is_admin:
            abort(403)
