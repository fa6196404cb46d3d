"""Order Entry, the order page with its fulfillments and timeline, and Send now."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from dashboard.access import admin_required
from dashboard.extensions import db
from dashboard.models import Fulfillment, HouseAccount, Order, Product
from dashboard.orders.forms import OrderEntryForm
from dashboard.services import order_entry
from dashboard.services.queue import enqueue_dispatch
from dashboard.status import Status

bp = Blueprint("orders", __name__, template_folder="templates")

#: products offered in Order Entry's pickers
PICKER_LIMIT = 500


def _product_choices():
    rows = db.session.execute(select(Product.id, Product.name, Product.sku, Product.price)
                              .order_by(Product.name).limit(PICKER_LIMIT)).all()
    return [SelectChoice(0, "— choose a product —")] + [
        SelectChoice(r.id, f"{r.name} ({r.sku}) ${r.price}") for r in rows]


@bp.route("/orders/new", methods=["GET", "POST"])
def new():
    form = OrderEntryForm()
    choices = _product_choices()
    for entry in form.lines:
        entry.product_id.choices = choices
    if form.validate_on_submit():
        lines = [order_entry.Line(e.product_id.data, e.quantity.data)
                 for e in form.lines if e.product_id.data]
        order = order_entry.place_order(form.address_data(), lines,
                                        actor=current_user.display_name)
        count = len(order.fulfillments)
        flash(f"Order #{order.id} placed with {count} fulfillment{'s' if count != 1 else ''} "
              "in Hold.", "success")
        return redirect(url_for("orders.show", order_id=order.id))
    if request.method == "POST":
        flash("The order was not placed: correct the fields marked below.", "error")
    return render_template("orders/new.html", form=form, has_products=len(choices) > 1), \
        400 if form.errors or (request.method == "POST") else 200


@bp.route("/orders/<int:order_id>")
def show(order_id: int):
    order = db.session.scalar(
        select(Order).where(Order.id == order_id).options(
            selectinload(Order.items),
            selectinload(Order.fulfillments).selectinload(Fulfillment.events),
            selectinload(Order.fulfillments).selectinload(Fulfillment.items),
            selectinload(Order.fulfillments).selectinload(Fulfillment.house_account),
            selectinload(Order.fulfillments).selectinload(Fulfillment.shipments)))
    if order is None:
        abort(404)
    unassigned = [i for i in order.items if i.fulfillment_id is None]
    return render_template("orders/show.html", order=order, unassigned=unassigned,
                           action_form=FlaskForm())


@bp.route("/fulfillments/<int:fulfillment_id>")
def fulfillment(fulfillment_id: int):
    f = db.get_or_404(Fulfillment, fulfillment_id)
    return redirect(url_for("orders.show", order_id=f.order_id, _anchor=f"f{f.id}"))


@bp.route("/admin/accounts/<int:account_id>/send-now", methods=["POST"])
@admin_required
def send_account_now(account_id: int):
    account = db.get_or_404(HouseAccount, account_id)
    if FlaskForm().validate():
        enqueue_dispatch(account_id=account.id)
        flash(f"Sending “{account.title}”'s held orders now; refresh the board to follow them.",
              "success")
    return redirect(request.referrer or url_for("plugins.show", key=account.adapter_key))


@bp.route("/fulfillments/<int:fulfillment_id>/send-now", methods=["POST"])
@admin_required
def send_fulfillment_now(fulfillment_id: int):
    f = db.get_or_404(Fulfillment, fulfillment_id)
    if FlaskForm().validate():
        if f.status != Status.HOLD:
            flash(f"Fulfillment {f.reference} is {f.status.replace('_', ' ')}, not in Hold; "
                  "there is nothing to send.", "error")
        else:
            enqueue_dispatch(fulfillment_ids=[f.id], ignore_due=True)
            flash(f"Sending {f.reference} now.", "success")
    return redirect(url_for("orders.show", order_id=f.order_id))
