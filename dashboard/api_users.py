"""Admin > Users > API Users: logins for pull houses."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_users", __name__, url_prefix="/admin/api-users")
