"""Admin > Carriers: carrier tracking accounts."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("carriers", __name__, url_prefix="/admin/carriers")
