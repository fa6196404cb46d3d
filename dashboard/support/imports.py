"""Import tracking from a CSV file in Konnektive's Import Tracking layout.

An upload is stored as a ``TrackingImport`` and previewed row by row against the current
records; nothing is applied from a file with errors unless the user chooses to apply its
valid rows. Applying moves the records to Pending Shipment through ``record_packages``, in
one transaction, and saves the summary on the import.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import BooleanField
from wtforms.validators import ValidationError

from adapters.base import Package, TrackingInfo
from dashboard import status as rules
from dashboard.clock import now
from dashboard.extensions import db
from dashboard.ids import parse_id
from dashboard.models import Fulfillment, Order, TrackingImport
from dashboard.services.tracking import record_packages
from dashboard.status import Status

bp = Blueprint("imports", __name__, url_prefix="/imports", template_folder="templates")

#: header names as Konnektive writes them (and common variants), normalised, to our fields
COLUMNS = {"orderid": "order_id", "fulfillmentid": "fulfillment_id", "tracking": "tracking",
           "trackingnumber": "tracking", "carrier": "carrier", "shipcarrier": "carrier",
           "method": "method", "shipmethod": "method"}
REQUIRED = ("order_id", "fulfillment_id", "tracking")
#: our column widths: field -> (its name in messages, most characters)
LIMITS = {"tracking": ("tracking number", 64), "carrier": ("carrier", 40),
          "method": ("method", 80)}
MAX_ROWS = 10_000
#: the layout shown on the upload page
TEMPLATE = "orderId,fulfillmentId,tracking,carrier,method"


@dataclass
class Row:
    line: int
    order_id: str
    fulfillment_id: str
    tracking: str
    carrier: str = ""
    method: str = ""
    error: str = ""
    #: what applying it does, for a valid row
    outcome: str = ""
    fid: int | None = None


@dataclass
class Preview:
    rows: list[Row] = field(default_factory=list)
    #: a problem with the file as a whole (not CSV, wrong columns); nothing can be applied
    problem: str = ""

    @property
    def valid(self) -> list[Row]:
        return [r for r in self.rows if not r.error]

    @property
    def errors(self) -> list[Row]:
        return [r for r in self.rows if r.error]


def preview(content: str) -> Preview:
    """Read ``content`` and say, row by row, what applying it would do now."""
    result = _parse(content)
    if result.problem:
        return result
    _check_against_records(result.rows)
    return result


def _parse(content: str) -> Preview:
    reader = csv.reader(io.StringIO(content), strict=True)
    try:
        lines = [(reader.line_num, values) for values in reader]
    except csv.Error as exc:
        return Preview(problem=f"This is not a readable CSV file (line {reader.line_num}: "
                               f"{exc}).")
    lines = [(n, values) for n, values in lines if any(v.strip() for v in values)]
    if not lines:
        return Preview(problem="The file is empty. Its first line names the columns: "
                               f"{TEMPLATE}.")
    _n, header = lines[0]
    names = [COLUMNS.get(re.sub(r"[^a-z]", "", h.lower())) for h in header]
    unknown = [h for h, name in zip(header, names, strict=True) if name is None]
    missing = [r for r in REQUIRED if r not in names]
    repeated = {n for n in names if n and names.count(n) > 1}
    if unknown or missing or repeated:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if unknown:
            parts.append("unknown " + ", ".join(f"“{h}”" for h in unknown))
        if repeated:
            parts.append("repeated " + ", ".join(sorted(repeated)))
        return Preview(problem=f"Wrong columns ({'; '.join(parts)}). The first line must "
                               f"name the columns: {TEMPLATE}.")
    if len(lines) - 1 > MAX_ROWS:
        return Preview(problem=f"The file has {len(lines) - 1:,} rows; import at most "
                               f"{MAX_ROWS:,} at a time.")
    rows = []
    for line, values in lines[1:]:
        if len(values) != len(header):
            rows.append(Row(line, "", "", "", error=f"Expected {len(header)} values, found "
                                                    f"{len(values)}."))
            continue
        data = {name: value.strip() for name, value in zip(names, values, strict=True)}
        rows.append(Row(line, data["order_id"], data["fulfillment_id"], data["tracking"],
                        data.get("carrier", ""), data.get("method", "")))
    return Preview(rows=rows)


def _check_against_records(rows: list[Row]) -> None:
    """Fill in each row's error or outcome with two queries for the whole file."""
    for row in rows:
        if row.error:
            continue
        if parse_id(row.order_id) is None:
            row.error = f"Unknown order “{row.order_id}”."
        elif parse_id(row.fulfillment_id) is None:
            row.error = f"Unknown fulfillment “{row.fulfillment_id}”."
        elif not row.tracking:
            row.error = "The tracking number is empty."
        else:
            too_long = [f"The {label} is longer than {limit} characters."
                        for name, (label, limit) in LIMITS.items()
                        if len(getattr(row, name)) > limit]
            row.error = " ".join(too_long)
    checked = [r for r in rows if not r.error]
    orders = set(db.session.scalars(select(Order.id).where(
        Order.id.in_({int(r.order_id) for r in checked}))))
    records = {f.id: f for f in db.session.execute(
        select(Fulfillment.id, Fulfillment.order_id, Fulfillment.status)
        .where(Fulfillment.id.in_({int(r.fulfillment_id) for r in checked})))}
    seen: dict[tuple[int, str], int] = {}
    packages: dict[int, int] = {}
    for row in checked:
        order_id, fid = int(row.order_id), int(row.fulfillment_id)
        record = records.get(fid)
        if order_id not in orders:
            row.error = f"Unknown order {order_id}."
        elif record is None:
            row.error = f"Unknown fulfillment {fid}."
        elif record.order_id != order_id:
            row.error = f"Fulfillment {fid} is not part of order {order_id}."
        elif (fid, row.tracking) in seen:
            row.error = f"Duplicate of line {seen[(fid, row.tracking)]}."
        elif not (rules.is_allowed(record.status, Status.PENDING_SHIPMENT)
                  or rules.is_late(record.status, Status.PENDING_SHIPMENT)):
            row.error = (f"Fulfillment {fid} is {Status(record.status).label}; tracking can "
                         "only be imported for Hold or Pending records (Resend a Failed one "
                         "first).")
        else:
            seen[(fid, row.tracking)] = row.line
            row.fid = fid
            packages[fid] = packages.get(fid, 0) + 1
            if packages[fid] > 1:
                row.outcome = "Adds a package to the row above."
            elif rules.is_allowed(record.status, Status.PENDING_SHIPMENT):
                row.outcome = f"{Status(record.status).label} → Pending Shipment"
            else:
                row.outcome = (f"Already {Status(record.status).label}: the package is "
                               "recorded, the status stays.")


def apply(imp: TrackingImport, *, valid_only: bool, actor: str) -> rules.BulkResult:
    """Apply the import's valid rows in one transaction and save the summary on it.

    :raise ValueError: the file cannot be applied as it is (with the reason)
    """
    if imp.applied_at is not None:
        raise ValueError("This file was already applied.")
    result = preview(imp.content)
    if result.problem:
        raise ValueError(result.problem)
    if result.errors and not valid_only:
        raise ValueError(f"{len(result.errors)} rows have errors. Fix the file and upload it "
                         "again, or choose to apply only the valid rows.")
    if not result.valid:
        raise ValueError("No row can be applied.")
    by_record: dict[int, list[Row]] = {}
    for row in result.valid:
        by_record.setdefault(row.fid, []).append(row)
    references = dict(db.session.execute(select(Fulfillment.id, Fulfillment.reference)
                                         .where(Fulfillment.id.in_(list(by_record)))).all())
    shipped = {fid: TrackingInfo(references[fid], "", tuple(
        Package(r.tracking, r.carrier, r.method) for r in rows))
        for fid, rows in by_record.items()}
    at = now()
    moved = record_packages(shipped, source="staff", actor=actor, at=at)
    imp.applied_at = at
    imp.summary = (f"Applied by {actor}: {len(moved.moved)} moved to Pending Shipment, "
                   f"{len(moved.unchanged)} already past it (packages recorded)"
                   + (f", {len(moved.refused)} refused because they changed since the preview"
                      if moved.refused else "")
                   + (f"; {len(result.errors)} rows with errors skipped" if result.errors else "")
                   + ".")
    db.session.commit()
    return moved


# ------------------------------------------------------------------ pages


class UploadForm(FlaskForm):
    file = FileField("Tracking CSV", validators=[FileRequired("Choose a CSV file to upload.")],
                     description=f"First line: {TEMPLATE}. Carrier and method may be empty.")

    def validate_file(self, field):
        name = field.data.filename or ""
        if not name.lower().endswith((".csv", ".txt")):
            raise ValidationError("Upload a .csv file.")
        try:
            self.text = field.data.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError("The file is not UTF-8 text; save it as CSV (UTF-8).") \
                from None
        if "\x00" in self.text:  # no spreadsheet writes one, and PostgreSQL cannot store it
            raise ValidationError("The file contains NUL characters, so it is not a CSV "
                                  "text file; export it again as CSV (UTF-8).")


class ApplyForm(FlaskForm):
    valid_only = BooleanField("Apply the valid rows and skip the rows with errors")


@bp.route("/", methods=["GET", "POST"])
def index():
    form = UploadForm()
    if form.validate_on_submit():
        imp = TrackingImport(filename=form.file.data.filename[:255], content=form.text,
                             created_by=current_user.display_name, created_at=now())
        db.session.add(imp)
        db.session.commit()
        return redirect(url_for(".show", import_id=imp.id))
    if request.method == "POST":
        flash("The file was not uploaded: see the message below.", "error")
    recent = db.session.scalars(select(TrackingImport).order_by(TrackingImport.id.desc())
                                .limit(20)).all()
    return render_template("imports/index.html", form=form, recent=recent, template=TEMPLATE,
                           max_rows=MAX_ROWS), 400 if form.errors else 200


@bp.route("/<int:import_id>")
def show(import_id: int):
    imp = db.get_or_404(TrackingImport, import_id)
    return render_template("imports/show.html", imp=imp, form=ApplyForm(),
                           result=None if imp.applied_at else preview(imp.content))


@bp.route("/<int:import_id>/apply", methods=["POST"])
def apply_import(import_id: int):
    imp = db.get_or_404(TrackingImport, import_id)
    form = ApplyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        apply(imp, valid_only=form.valid_only.data, actor=current_user.display_name)
    except ValueError as exc:
        db.session.rollback()
        flash(f"Nothing was applied: {exc}", "error")
        return redirect(url_for(".show", import_id=imp.id))
    flash(imp.summary, "success")
    return redirect(url_for(".show", import_id=imp.id))
