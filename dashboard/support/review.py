"""Failed-order review: each rejection with its resolution in plain words, and the staff
actions that repair a record (address, house account) and send it again, cancel it, or
reship what the house already shipped. Support and admins may do all of it; every action
is an event with the staff member's name on the order's timeline."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, insert, select, true, update
from sqlalchemy.orm import selectinload
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from adapters.base import AdapterError, FailureReason, SentOrder
from dashboard import status as rules
from dashboard.clock import now
from dashboard.extensions import db
from dashboard.ids import parse_id
from dashboard.models import Fulfillment, FulfillmentItem, HouseAccount
from dashboard.orders.forms import AddressFields
from dashboard.pagination import keyset_page, parse_after
from dashboard.safe_redirect import local_path
from dashboard.services import audit
from dashboard.services.house_accounts import adapter_for
from dashboard.services.house_problems import is_held
from dashboard.status import Status
from dashboard.support.filters import account_choices, filtered

bp = Blueprint("review", __name__, url_prefix="/review", template_folder="templates")

#: what support does about each failure reason, and where
RESOLUTIONS = {
    FailureReason.ADDRESS: "Correct the shipping address below, then Resend.",
    FailureReason.SKU: "Map the SKU to the house's code in the account's SKU mappings, or fix "
                       "the product SKU in CRM › Products; then Resend.",
    FailureReason.STOCK: "The house is out of stock: wait for its restock and Resend, or "
                         "change the house account below to one that has stock.",
    FailureReason.CREDENTIALS: "The house refused our login: an admin must update the "
                               "account's credentials in Admin › Plugins, then Resend.",
    FailureReason.HELD: "The house holds the order and may release it by itself: wait, or "
                        "fix what it names and Resend (it gets the corrected order under the "
                        "same reference), or Cancel it at the house.",
    FailureReason.REJECTED: "The house's fulfillment provider refused the order: fix what "
                            "it names, then Resend, or Cancel the fulfillment.",
    FailureReason.OTHER: "Read the house's message; fix what it names, then Resend, or "
                         "Cancel the fulfillment.",
}
#: statuses whose address and house account may still change, and staff may cancel
EDITABLE = rules.NOT_AT_HOUSE
#: statuses a reship may start from: the house already shipped it
RESHIPPABLE = rules.SHIPPED_OUT
#: ids per move_many call in a bulk resend (one commit for all of them)
BULK_CHUNK = 500


#: how each reason is named on the pages
REASON_LABELS = {FailureReason.ADDRESS: "Address", FailureReason.SKU: "SKU",
                 FailureReason.STOCK: "Stock", FailureReason.CREDENTIALS: "Credentials",
                 FailureReason.HELD: "Held", FailureReason.REJECTED: "Rejected",
                 FailureReason.OTHER: "Other"}


@bp.app_context_processor
def _reason_label():
    return {"reason_label": lambda reason: REASON_LABELS.get(reason, REASON_LABELS["other"])}


def resolution(reason: str | None) -> str:
    try:
        return RESOLUTIONS[FailureReason(reason)]
    except ValueError:
        return RESOLUTIONS[FailureReason.OTHER]


def _actor() -> str:
    return current_user.display_name


def _back(default: str) -> str:
    """Where to go after an action: the page that posted it (a local path), or ``default``."""
    return local_path(request.form.get("next")) or default


def _fulfillment_or_404(fulfillment_id: int) -> Fulfillment:
    f = db.session.scalar(select(Fulfillment).where(Fulfillment.id == fulfillment_id).options(
        selectinload(Fulfillment.order), selectinload(Fulfillment.house_account),
        selectinload(Fulfillment.items)))
    if f is None:
        abort(404)
    return f


# ------------------------------------------------------------------ forms


class AddressForm(AddressFields, FlaskForm):
    """The ship-to address, with Order Entry's field rules."""


class AccountForm(FlaskForm):
    house_account_id = SelectField("Send it through", coerce=int, validate_choice=False)

    def validate_house_account_id(self, field):
        choices = {value for value, _label in field.choices}
        if field.data not in choices:
            raise ValidationError("Choose another active house account.")


class ReshipForm(FlaskForm):
    note = StringField("Why (optional)", validators=[Optional(), Length(max=200)],
                       description="e.g. “lost in transit”, “arrived damaged”; it goes on "
                                   "both timelines.")


def _other_accounts(current_id: int) -> list[tuple[int, str]]:
    return [(a.id, a.title) for a in db.session.execute(
        select(HouseAccount.id, HouseAccount.title)
        .where(HouseAccount.active.is_(True), HouseAccount.id != current_id)
        .order_by(HouseAccount.title))]


# ------------------------------------------------------------------ list


@bp.route("/")
def index():
    """Failed records, newest first, filterable by reason and account; with ``held=1``
    the records held at the house instead (Pending, with the house's reason)."""
    args = request.args.to_dict()
    held = args.pop("held", "") == "1"
    args["status"] = Status.PENDING.value if held else Status.FAILED.value
    if held:
        args["stuck"] = "held_at_house"
    stmt, applied = filtered(args, now())
    applied.pop("status", None)
    applied.pop("stuck", None)
    page = keyset_page(db.session, stmt, Fulfillment.id, parse_after(request.args.get("after")),
                       size=50)
    shown = Status.PENDING.value if held else Status.FAILED.value
    by_reason = dict(db.session.execute(
        select(Fulfillment.failure_reason, func.count())
        .where(Fulfillment.status == shown, Fulfillment.failure_reason.is_not(None) if held
               else true())
        .group_by(Fulfillment.failure_reason)).all())
    held_count = db.session.scalar(select(func.count()).select_from(Fulfillment).where(
        Fulfillment.status == Status.PENDING.value, Fulfillment.failure_reason.is_not(None)))
    return render_template("review/index.html", page=page, applied=applied, held=held,
                           held_count=held_count, by_reason=by_reason,
                           reasons=list(FailureReason), resolution=resolution,
                           accounts=account_choices(), form=FlaskForm())


@bp.route("/<int:fulfillment_id>")
def show(fulfillment_id: int):
    f = _fulfillment_or_404(fulfillment_id)
    address = AddressForm(obj=f.order, formdata=None)
    account = AccountForm(formdata=None, house_account_id=f.house_account_id)
    account.house_account_id.choices = _other_accounts(f.house_account_id)
    return _show(f, address, account)


def _show(f: Fulfillment, address: AddressForm, account: AccountForm, status: int = 200):
    return render_template("review/show.html", f=f, order=f.order, address=address,
                           account=account, form=FlaskForm(), editable=f.status in EDITABLE,
                           held=is_held(f.status, f.failure_reason),
                           resolution=resolution(f.failure_reason)), status


# ------------------------------------------------------------------ repairs


@bp.route("/<int:fulfillment_id>/address", methods=["POST"])
def edit_address(fulfillment_id: int):
    """Correct the order's ship-to address; every fulfillment of the order gets an event."""
    f = _fulfillment_or_404(fulfillment_id)
    form = AddressForm()
    account = AccountForm(formdata=None, house_account_id=f.house_account_id)
    account.house_account_id.choices = _other_accounts(f.house_account_id)
    if f.status not in EDITABLE:
        flash(f"{f.reference} is {Status(f.status).label}: the house already has it, so its "
              "address can no longer change here.", "error")
        return redirect(url_for(".show", fulfillment_id=f.id))
    if not form.validate_on_submit():
        flash("The address was not saved: correct the fields marked below.", "error")
        return _show(f, form, account, 400)
    order = f.order
    new = form.address_data()
    changed = {k: (getattr(order, k), v) for k, v in new.items() if getattr(order, k) != v}
    if not changed:
        flash("Nothing changed in the address.", "info")
        return redirect(url_for(".show", fulfillment_id=f.id))
    detail = "Shipping address changed: " + "; ".join(
        f"{form[k].label.text} “{old}” → “{value}”" for k, (old, value) in changed.items()) + "."
    for name, (_old, value) in changed.items():
        setattr(order, name, value)
    for other in order.fulfillments:
        note = "" if other.status in EDITABLE else (
            " It was already with the house, which keeps the address it received.")
        rules.record(other.id, source="staff", actor=_actor(), detail=detail + note,
                     status=other.status)
    audit.record("fulfillment", f.id, "address corrected",
                 f"{f.reference} (order #{order.id}): {detail}")
    db.session.commit()
    flash("Address saved." + (" Now Resend it." if f.status == Status.FAILED.value else ""),
          "success")
    return redirect(url_for(".show", fulfillment_id=f.id))


@bp.route("/<int:fulfillment_id>/account", methods=["POST"])
def change_account(fulfillment_id: int):
    """Send the fulfillment through another active house account."""
    f = _fulfillment_or_404(fulfillment_id)
    form = AccountForm()
    form.house_account_id.choices = _other_accounts(f.house_account_id)
    if f.status not in EDITABLE:
        flash(f"{f.reference} is {Status(f.status).label}: the house already has it, so it "
              "cannot move to another account.", "error")
        return redirect(url_for(".show", fulfillment_id=f.id))
    if not form.validate_on_submit():
        flash("The house account was not changed: choose another active account.", "error")
        return _show(f, AddressForm(obj=f.order, formdata=None), form, 400)
    old_title = f.house_account.title
    new_title = dict(form.house_account_id.choices)[form.house_account_id.data]
    fc = Fulfillment.__table__.c
    moved = db.session.execute(
        update(Fulfillment.__table__)
        .where(fc.id == f.id, fc.status.in_(rules.values(EDITABLE)), fc.claim_token.is_(None))
        .values(house_account_id=form.house_account_id.data, updated_at=now())).rowcount
    if not moved:
        db.session.rollback()
        flash(f"{f.reference} is being sent or has changed; reload the page and try again.",
              "error")
        return redirect(url_for(".show", fulfillment_id=f.id))
    rules.record(f.id, source="staff", actor=_actor(), status=f.status,
                 detail=f"House account changed from “{old_title}” to “{new_title}”.")
    audit.record("fulfillment", f.id, "house account changed",
                 f"{f.reference}: “{old_title}” → “{new_title}”")
    db.session.commit()
    flash(f"{f.reference} now goes through “{new_title}”."
          + (" Now Resend it." if f.status == Status.FAILED.value else ""), "success")
    return redirect(url_for(".show", fulfillment_id=f.id))


# ------------------------------------------------------------------ resend and cancel


def _resend_values() -> dict:
    """A resent record is due at once and no longer carries the old rejection (the
    timeline keeps it)."""
    return {"due_at": now(), "failure_reason": None, "failure_message": "", "last_error": ""}


def _sent_when() -> str:
    when = "It is sent in the next run"
    return when + (", or at once with Send now on its order page." if current_user.is_admin
                   else " (within the hour).")


@bp.route("/<int:fulfillment_id>/resend", methods=["POST"])
def resend(fulfillment_id: int):
    """Failed → Hold through the status rules, due now. A record held at the house is
    first taken back as Failed (Pending → Failed), so the corrected order goes to the house
    again under the same reference, which replaces the held one there."""
    f = _fulfillment_or_404(fulfillment_id)
    back = _back(url_for(".show", fulfillment_id=f.id))
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        if is_held(f.status, f.failure_reason):
            rules.move(f.id, Status.FAILED, source="staff", actor=_actor(),
                       detail=f"Taken back from the house's hold to resend: "
                              f"{f.failure_message[:900]}")
        rules.move(f.id, Status.HOLD, source="staff", actor=_actor(),
                   detail="Resent after review.", values=_resend_values())
    except rules.RefusedMove as exc:
        db.session.rollback()
        flash(f"{f.reference} was not resent: it is {exc.current.label}, and only Failed "
              "records can be resent.", "error")
        return redirect(back)
    audit.record("fulfillment", f.id, "resent", f"{f.reference} back to Hold")
    db.session.commit()
    flash(f"{f.reference} is back in Hold. {_sent_when()}", "success")
    return redirect(back)


@bp.route("/resend", methods=["POST"])
def bulk_resend():
    """Resend the selected ids, or every Failed record the list's filters select."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    if request.form.get("all") == "1":
        args = {k: v for k, v in request.form.items() if k in ("reason", "account", "q")}
        args["status"] = Status.FAILED.value
        stmt, _applied = filtered(args, now(), columns=(Fulfillment.id,))
        ids = list(db.session.scalars(stmt.order_by(Fulfillment.id)))
    else:
        ids = [fid for fid in map(parse_id, request.form.getlist("ids")) if fid]
    back = _back(url_for(".index"))
    if not ids:
        flash("Nothing was resent: select at least one record.", "error")
        return redirect(back)
    moved, refused = [], {}
    for start in range(0, len(ids), BULK_CHUNK):
        result = rules.move_many(ids[start:start + BULK_CHUNK], Status.HOLD, source="staff",
                                 actor=_actor(), detail="Resent after review (bulk).",
                                 common=_resend_values())
        moved += result.moved
        refused.update(result.refused)
    if moved:
        shown = ", ".join(map(str, moved[:50])) + (" …" if len(moved) > 50 else "")
        audit.record("fulfillment", None, "resent in bulk",
                     f"{len(moved)} record(s) back to Hold: ids {shown}")
    db.session.commit()
    message = f"{len(moved)} resent to Hold."
    if moved:
        message += " " + _sent_when()
    if refused:
        message += " " + _refusals(refused)
    flash(message, "success" if moved and not refused else ("warning" if moved else "error"))
    return redirect(back)


def _refusals(refused: dict[int, rules.Refusal]) -> str:
    """'2 refused: 1 is Delivered, 1 no longer exists. Only Failed records can be resent.'"""
    why: dict[str, int] = {}
    for refusal in refused.values():
        if refusal == rules.UNKNOWN:
            text = "no longer exists"
        elif refusal == rules.CHANGED:
            text = "changed while we moved it (try again)"
        else:
            text = f"is {refusal.current.label}"
        why[text] = why.get(text, 0) + 1
    parts = ", ".join(f"{n} {text}" for text, n in sorted(why.items()))
    return f"{len(refused)} refused: {parts}. Only Failed records can be resent."


@bp.route("/<int:fulfillment_id>/cancel", methods=["GET", "POST"])
def cancel(fulfillment_id: int):
    """Cancel a record in Hold or Failed, or held at the house, after a confirmation. An
    order the house still has (held, or failed after the house took it) is cancelled at
    the house first: a held one stays as it is when the house refuses, a failed one is
    cancelled here anyway, with the house's answer on its timeline."""
    f = _fulfillment_or_404(fulfillment_id)
    form = FlaskForm()
    held = is_held(f.status, f.failure_reason)
    refused = f.status not in EDITABLE and not held
    if request.method == "POST" and form.validate_on_submit():
        at_house = _cancel_at_house(f) if f.house_reference and not refused else ""
        if held and at_house:
            db.session.rollback()
            flash(f"{f.reference} was not cancelled: {at_house}", "error")
            return redirect(url_for("orders.show", order_id=f.order_id))
        detail = "Cancelled by staff." + (" Cancelled at the house too." if f.house_reference
                                          and not at_house else "")
        try:
            if at_house:
                rules.record(f.id, source="staff", actor=_actor(), status=f.status,
                             detail=f"The house did not cancel it: {at_house}")
            rules.move(f.id, Status.CANCELLED, source="staff", actor=_actor(), detail=detail)
        except rules.RefusedMove as exc:
            db.session.rollback()
            flash(f"{f.reference} was not cancelled: it is {exc.current.label}.", "error")
            return redirect(url_for("orders.show", order_id=f.order_id))
        audit.record("fulfillment", f.id, "cancelled", f.reference)
        db.session.commit()
        flash(f"{f.reference} is cancelled; it will not be sent.", "success")
        return redirect(url_for("orders.show", order_id=f.order_id))
    message = (f"Cancel {f.reference} ({f.house_account.title}, order #{f.order_id})? "
               + ("The house has it: it is cancelled there first. " if f.house_reference
                  else "It will never be sent to the house. ") + "This cannot be undone."
               if not refused else
               f"{f.reference} is {Status(f.status).label}: the house has it or it is finished, "
               "so it cannot be cancelled here.")
    return render_template("review/confirm.html", f=f, form=form, title="Cancel fulfillment",
                           message=message, button="Cancel fulfillment", danger=True,
                           refused=refused)


# ------------------------------------------------------------------ reship


@bp.route("/<int:fulfillment_id>/reship", methods=["GET", "POST"])
def reship(fulfillment_id: int):
    """Ship the same items again as a new fulfillment in Hold, with a new reference so the
    house does not take it for a duplicate of the first."""
    f = _fulfillment_or_404(fulfillment_id)
    form = ReshipForm()
    refused = f.status not in RESHIPPABLE
    if request.method == "POST" and not refused and form.validate_on_submit():
        new = _reship(f, (form.note.data or "").strip())
        audit.record("fulfillment", f.id, "reshipped", f"{f.reference} as {new.reference}")
        db.session.commit()
        flash(f"Reshipment {new.reference} created in Hold. {_sent_when()}", "success")
        return redirect(url_for("orders.show", order_id=f.order_id, _anchor=f"f{new.id}"))
    message = (f"Ship the items of {f.reference} again through “{f.house_account.title}”? A new "
               "fulfillment is created in Hold with its own reference."
               if not refused else
               f"{f.reference} is {Status(f.status).label}: only what the house already shipped "
               "(Pending Shipment, Shipped, Delivered) can be reshipped.")
    return render_template("review/confirm.html", f=f, form=form, title="Reship",
                           message=message, button="Create reshipment", danger=False,
                           refused=refused, fields=[form.note])


def _cancel_at_house(f: Fulfillment) -> str:
    """Ask the house to cancel ``f``; "" when it did, else what it said."""
    try:
        adapter_for(f.house_account).cancel(
            SentOrder(f.reference, f.house_reference or "", f"{f.order_id}-{f.id}"))
    except AdapterError as exc:
        return str(exc)
    return ""


def _reship(original: Fulfillment, note: str) -> Fulfillment:
    at = now()
    why = f" Why: {note}" if note else ""
    new = Fulfillment(reference=Fulfillment.new_reference(), order_id=original.order_id,
                      house_account_id=original.house_account_id,
                      due_at=at, is_reshipment=True, reship_of_id=original.id,
                      ship_method=original.ship_method, created_at=at, updated_at=at)
    rules.create([(new, f"Reshipment of {original.reference}.{why}")], source="staff",
                 actor=_actor(), at=at)
    db.session.execute(insert(FulfillmentItem.__table__), [
        {"fulfillment_id": new.id, "order_item_id": i.order_item_id, "product_id": i.product_id,
         "name": i.name, "sku": i.sku, "quantity": i.quantity, "price": i.price}
        for i in original.items])
    rules.record(original.id, source="staff", actor=_actor(), status=original.status,
                 detail=f"Reshipped as {new.reference}.{why}")
    return new
