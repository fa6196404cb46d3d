"""The ShipWorks Generic Module endpoint."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("shipworks", __name__, url_prefix="/shipworks")
