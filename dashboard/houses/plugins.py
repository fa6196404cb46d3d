"""Admin > Plugins > Fulfillment House Listing: tiles, Activate, edit, assign, delete."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from adapters import HOUSES, UnknownAdapter, get_house, pull_houses
from dashboard.access import admin_blueprint
from dashboard.clock import now
from dashboard.extensions import db
from dashboard.models import HouseAccount, Product
from dashboard.services import audit, connection_test, house_accounts
from dashboard.services.pull_houses import touch_held

bp = Blueprint("plugins", __name__, url_prefix="/admin/plugins", template_folder="templates")
admin_blueprint(bp)


def _adapter_or_404(key: str):
    try:
        return get_house(key)
    except UnknownAdapter:
        abort(404)


def _account_or_404(account_id: int) -> HouseAccount:
    return db.get_or_404(HouseAccount, account_id)


@bp.route("/")
def index():
    counts = dict(db.session.execute(
        select(HouseAccount.adapter_key, func.count()).where(HouseAccount.active)
        .group_by(HouseAccount.adapter_key)).all())
    return render_template("plugins/index.html", houses=HOUSES.values(), counts=counts)


@bp.route("/<key>")
def show(key: str):
    adapter_cls = _adapter_or_404(key)
    accounts = db.session.scalars(select(HouseAccount).where(HouseAccount.adapter_key == key)
                                  .order_by(HouseAccount.id)).all()
    product_counts = dict(db.session.execute(
        select(Product.house_account_id, func.count())
        .where(Product.house_account_id.in_([a.id for a in accounts]))
        .group_by(Product.house_account_id)).all())
    return render_template("plugins/show.html", adapter=adapter_cls, accounts=accounts,
                           product_counts=product_counts, action_form=FlaskForm())


@bp.route("/<key>/activate", methods=["GET", "POST"])
def activate(key: str):
    adapter_cls = _adapter_or_404(key)
    form = house_accounts.account_form(adapter_cls, formdata=request.form or None)
    if request.method == "POST":
        if form.validate():
            account = house_accounts.create_account(key, form)
            if key in pull_houses():  # the house calls us: it needs an API user next
                flash(f"{adapter_cls.name} account “{account.title}” is active. Now create the "
                      "API user the house logs in with.", "success")
                return redirect(url_for("api_users.setup", account_id=account.id))
            flash(f"{adapter_cls.name} account “{account.title}” is active. Click the tile to "
                  "assign it to your products.", "success")
            return redirect(url_for("plugins.index"))
        flash("The account was not created: correct the fields marked below.", "error")
    main, advanced = house_accounts.field_groups(form, adapter_cls)
    return render_template("plugins/form.html", adapter=adapter_cls, form=form, main=main,
                           advanced=advanced, account=None), 400 if form.errors else 200


@bp.route("/accounts/<int:account_id>/edit", methods=["GET", "POST"])
def edit(account_id: int):
    account = _account_or_404(account_id)
    adapter_cls = account.adapter_class
    form = house_accounts.account_form(adapter_cls, account, formdata=request.form or None)
    if request.method == "POST":
        if form.validate():
            house_accounts.update_account(account, form)
            flash(f"Saved “{account.title}”.", "success")
            return redirect(url_for("plugins.show", key=account.adapter_key))
        flash("Nothing was saved: correct the fields marked below.", "error")
    main, advanced = house_accounts.field_groups(form, adapter_cls)
    return render_template("plugins/form.html", adapter=adapter_cls, form=form, main=main,
                           advanced=advanced, account=account), 400 if form.errors else 200


@bp.route("/accounts/<int:account_id>/assign-all", methods=["GET", "POST"])
def assign_all(account_id: int):
    account = _account_or_404(account_id)
    form = FlaskForm()
    if request.method == "POST" and form.validate():
        if not account.active:
            flash("Activate the account before assigning products to it.", "error")
        else:
            changed = house_accounts.assign_to_all_products(account)
            flash(f"{changed} product{'s' if changed != 1 else ''} now ship through "
                  f"“{account.title}”.", "success")
        return redirect(url_for("plugins.show", key=account.adapter_key))
    total = db.session.scalar(select(func.count()).select_from(Product))
    already = db.session.scalar(select(func.count()).select_from(Product)
                                .where(Product.house_account_id == account.id))
    return render_template("plugins/confirm.html", account=account, form=form,
                           title="Assign to All Products",
                           message=f"Every base product ({total - already} to change, {already} "
                                   f"already on it) will ship through “{account.title}”.",
                           button="Assign to All Products")


@bp.route("/accounts/<int:account_id>/toggle", methods=["POST"])
def toggle(account_id: int):
    account = _account_or_404(account_id)
    if FlaskForm().validate():
        account.active = not account.active
        if account.active:
            touch_held(account.id, now())
        audit.record("house_account", account.id,
                     "activated" if account.active else "deactivated", f"“{account.title}”")
        db.session.commit()
        flash(f"“{account.title}” is {'active' if account.active else 'deactivated'}; "
              + ("orders go out again." if account.active
                 else "its orders wait in Hold until you activate it."), "success")
    return redirect(url_for("plugins.show", key=account.adapter_key))


@bp.route("/accounts/<int:account_id>/delete", methods=["GET", "POST"])
def delete(account_id: int):
    account = _account_or_404(account_id)
    form = FlaskForm()
    open_count = house_accounts.open_fulfillment_count(account.id)
    if request.method == "POST" and form.validate():
        if open_count:
            flash(f"“{account.title}” still has {open_count} open fulfillment"
                  f"{'s' if open_count != 1 else ''}; deactivate it instead, or wait until "
                  "they are delivered or cancelled.", "error")
            return redirect(url_for("plugins.show", key=account.adapter_key))
        key = account.adapter_key
        db.session.execute(Product.__table__.update()
                           .where(Product.house_account_id == account.id)
                           .values(house_account_id=None))
        audit.record("house_account", account.id, "deleted",
                     f"“{account.title}” and its stored credentials")
        db.session.delete(account)
        db.session.commit()
        flash(f"Deleted “{account.title}”.", "success")
        return redirect(url_for("plugins.show", key=key))
    return render_template("plugins/confirm.html", account=account, form=form,
                           title="Delete account", button="Delete", danger=True,
                           message=(f"Delete “{account.title}” and its stored credentials? "
                                    "Products using it will have no house assigned."
                                    if not open_count else
                                    f"“{account.title}” has {open_count} open fulfillments and "
                                    "cannot be deleted until they are finished."),
                           refused=bool(open_count))


@bp.route("/accounts/<int:account_id>/test", methods=["POST"])
def test_connection(account_id: int):
    account = _account_or_404(account_id)
    if FlaskForm().validate():
        category, message = connection_test.report(house_accounts.adapter_for(account),
                                                   account.title)
        flash(message, category)
    return redirect(url_for("plugins.show", key=account.adapter_key))
