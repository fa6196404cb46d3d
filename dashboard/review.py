"""Failed-order review: resolutions, resend, cancel, reship."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/review")
