"""CRM > Products: the base products and the house account each ships through."""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from wtforms import BooleanField, DecimalField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Regexp,
    ValidationError,
)

from dashboard.extensions import db
from dashboard.models import HouseAccount, Product
from dashboard.pagination import keyset_page, parse_after
from dashboard.services import audit

bp = Blueprint("products", __name__, url_prefix="/products", template_folder="templates")


class ProductForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Name is required."),
                                           Length(max=200)])
    sku = StringField("SKU", validators=[
        DataRequired(message="SKU is required."), Length(max=64),
        Regexp(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$",
               message="Use letters, digits, dots, dashes and underscores only.")],
        description="The code the house knows this product by.")
    price = DecimalField("Price", places=2, validators=[
        InputRequired(message="Price is required."),
        NumberRange(min=Decimal("0"), max=Decimal("99999999"),
                    message="Enter a price of 0 or more.")])
    shippable = BooleanField("Shippable", default=True,
                             description="Only shippable items go to a fulfillment house.")
    house_account_id = SelectField("Fulfillment account", coerce=int, validate_choice=True)
    hold_delay_hours = IntegerField(
        "Extra hold delay (hours)", default=0,
        validators=[NumberRange(min=0, max=720, message="Enter 0 to 720 hours.")],
        description="Orders of this product wait this long in Hold before they are sent.")

    def __init__(self, *args, product_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._product_id = product_id
        accounts = db.session.scalars(select(HouseAccount).order_by(HouseAccount.title)).all()
        self.house_account_id.choices = [SelectChoice(0, "— No fulfillment house —")] + [
            SelectChoice(a.id, a.title + ("" if a.active else " (deactivated)"))
            for a in accounts]

    def validate_sku(self, field):
        clash = db.session.scalar(select(Product.id).where(
            func.lower(Product.sku) == field.data.strip().lower()))
        if clash and clash != self._product_id:
            raise ValidationError("Another product already uses this SKU.")


def _apply(form: ProductForm, product: Product) -> None:
    product.name = form.name.data.strip()
    product.sku = form.sku.data.strip()
    product.price = form.price.data
    product.shippable = form.shippable.data
    product.house_account_id = form.house_account_id.data or None
    product.hold_delay_hours = form.hold_delay_hours.data or 0


def _audit_assignment(product: Product, before: int | None) -> None:
    """A product moved to another house account (or none) is an admin change."""
    if product.house_account_id == before:
        return
    titles = dict(db.session.execute(select(HouseAccount.id, HouseAccount.title).where(
        HouseAccount.id.in_([i for i in (before, product.house_account_id) if i]))).all())
    audit.record("product", product.id, "house assignment changed",
                 f"“{product.name}” ({product.sku}): {titles.get(before, 'no house')} → "
                 f"{titles.get(product.house_account_id, 'no house')}")


@bp.route("/")
def index():
    q = (request.args.get("q") or "").strip()
    stmt = select(Product, HouseAccount.title).outerjoin(HouseAccount)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(Product.name).like(like),
                              func.lower(Product.sku).like(like)))
    page = keyset_page(db.session, stmt, Product.id, parse_after(request.args.get("after")),
                       size=50)
    return render_template("products/index.html", page=page, q=q)


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = ProductForm()
    if form.validate_on_submit():
        product = Product()
        _apply(form, product)
        db.session.add(product)
        db.session.flush()
        _audit_assignment(product, None)
        db.session.commit()
        flash(f"Created product “{product.name}”.", "success")
        return redirect(url_for("products.index"))
    return render_template("products/form.html", form=form, product=None), \
        400 if form.errors else 200


@bp.route("/<int:product_id>/edit", methods=["GET", "POST"])
def edit(product_id: int):
    product = db.get_or_404(Product, product_id)
    form = ProductForm(obj=product if request.method == "GET" else None, product_id=product.id)
    if request.method == "GET":
        form.house_account_id.data = product.house_account_id or 0
    if form.validate_on_submit():
        before = product.house_account_id
        _apply(form, product)
        _audit_assignment(product, before)
        db.session.commit()
        flash(f"Saved “{product.name}”.", "success")
        return redirect(url_for("products.index"))
    return render_template("products/form.html", form=form, product=product), \
        400 if form.errors else 200
