"""Per-account SKU mappings and ship profiles."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("mappings", __name__, url_prefix="/admin/accounts")
