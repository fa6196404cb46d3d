"""Admin › an account's SKU mappings and ship profiles.

A SKU mapping sends a product to the house under the code the house knows it by; a ship
profile (as Konnektive's Ship Profiles) names the house's code for a service and the
carrier and method it means. A product uses its own profile, else its account's default.
Dispatch reads both when it builds what it sends (``dispatch._payloads``).
"""
from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import func, select, update
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from dashboard.access import admin_blueprint
from dashboard.extensions import db
from dashboard.models import HouseAccount, Product, ShipProfile, SkuMapping
from dashboard.pagination import keyset_page, parse_after

bp = Blueprint("mappings", __name__, url_prefix="/admin/accounts", template_folder="templates")
admin_blueprint(bp)

PAGE_SIZE = 50


# ------------------------------------------------------------------ forms


class SkuMappingForm(FlaskForm):
    product_sku = StringField(
        "Product SKU", validators=[DataRequired(message="Enter the product's SKU."),
                                   Length(max=64)],
        description="The SKU as CRM › Products shows it.")
    house_sku = StringField(
        "House SKU", validators=[DataRequired(message="Enter the SKU the house uses."),
                                 Length(max=100)],
        description="The code the house's catalogue has for this product.")

    def __init__(self, *args, account_id: int, mapping_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._account_id = account_id
        self._mapping_id = mapping_id

    def validate_product_sku(self, field):
        sku = db.session.scalar(select(Product.sku).where(
            func.lower(Product.sku) == field.data.strip().lower()))
        if sku is None:
            raise ValidationError("No product has this SKU; check CRM › Products.")
        field.data = sku  # the product's own spelling
        clash = db.session.scalar(select(SkuMapping.id).where(
            SkuMapping.house_account_id == self._account_id, SkuMapping.product_sku == sku))
        if clash and clash != self._mapping_id:
            raise ValidationError("This SKU is already mapped for this account; edit that "
                                  "mapping instead.")

    def validate_house_sku(self, field):
        field.data = field.data.strip()
        if field.data == (self.product_sku.data or "").strip():
            raise ValidationError("This is the product's own SKU: no mapping is needed.")


class ShipProfileForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Give the profile a name."),
                                           Length(max=80)],
                       description='How staff know it, e.g. "Standard" or "Express".')
    house_code = StringField(
        "House ship code", validators=[DataRequired(message="Enter the house's code."),
                                      Length(max=100)],
        description="Exactly what the house expects as the shipping service (ShipStation's "
                    "requested service, ShipBob's ship option, ShipMonk's shipping method).")
    carrier = StringField("Carrier", validators=[Optional(), Length(max=40)],
                          description="e.g. USPS, UPS, FedEx.")
    method = StringField("Method", validators=[Optional(), Length(max=80)],
                         description="e.g. Ground Advantage, 2nd Day Air.")
    is_default = BooleanField("Default for this account",
                              description="Used for products without a profile of their own.")
    product_skus = TextAreaField(
        "Products using this profile", validators=[Optional()],
        description="SKUs of products of this account that ship this way, one per line or "
                    "separated by commas.")

    def __init__(self, *args, account_id: int, profile_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._account_id = account_id
        self._profile_id = profile_id
        #: ids of the products named in ``product_skus``, once validated
        self.product_ids: list[int] = []

    def validate_name(self, field):
        clash = db.session.scalar(select(ShipProfile.id).where(
            ShipProfile.house_account_id == self._account_id,
            func.lower(ShipProfile.name) == field.data.strip().lower()))
        if clash and clash != self._profile_id:
            raise ValidationError("This account already has a profile with this name.")

    def validate_is_default(self, field):
        if not field.data:
            return
        other = db.session.scalar(select(ShipProfile.name).where(
            ShipProfile.house_account_id == self._account_id, ShipProfile.is_default,
            ShipProfile.id != (self._profile_id or 0)))
        if other:
            raise ValidationError(f"“{other}” is already this account's default: untick it "
                                  "there first, or leave this one unticked.")

    def validate_product_skus(self, field):
        wanted = list(dict.fromkeys(s for s in re.split(r"[\s,]+", field.data or "") if s))
        if not wanted:
            return
        products = dict(db.session.execute(
            select(func.lower(Product.sku), Product.id).where(
                func.lower(Product.sku).in_([s.lower() for s in wanted]),
                Product.house_account_id == self._account_id)).all())
        missing = [s for s in wanted if s.lower() not in products]
        if missing:
            raise ValidationError("No product of this account has the SKU "
                                  + ", ".join(missing[:10])
                                  + (" …" if len(missing) > 10 else "") + ".")
        self.product_ids = list(products.values())


# ------------------------------------------------------------------ SKU mappings


def _account_or_404(account_id: int) -> HouseAccount:
    return db.get_or_404(HouseAccount, account_id)


def _mapping_or_404(account: HouseAccount, mapping_id: int) -> SkuMapping:
    mapping = db.get_or_404(SkuMapping, mapping_id)
    if mapping.house_account_id != account.id:
        abort(404)
    return mapping


@bp.route("/<int:account_id>/skus", methods=["GET", "POST"])
def skus(account_id: int):
    """The account's SKU mappings, newest first, and a form to add one."""
    account = _account_or_404(account_id)
    form = SkuMappingForm(account_id=account.id)
    if form.validate_on_submit():
        db.session.add(SkuMapping(house_account_id=account.id, product_sku=form.product_sku.data,
                                  house_sku=form.house_sku.data))
        db.session.commit()
        flash(f"{form.product_sku.data} now goes to “{account.title}” as "
              f"{form.house_sku.data}.", "success")
        return redirect(url_for("mappings.skus", account_id=account.id))
    if form.errors:
        flash("The mapping was not added: correct the fields marked below.", "error")
    page = keyset_page(db.session, select(SkuMapping).where(
        SkuMapping.house_account_id == account.id), SkuMapping.id,
        parse_after(request.args.get("after")), size=PAGE_SIZE)
    return render_template("mappings/skus.html", account=account, form=form, page=page,
                           tab="skus"), 400 if form.errors else 200


@bp.route("/<int:account_id>/skus/<int:mapping_id>/edit", methods=["GET", "POST"])
def edit_sku(account_id: int, mapping_id: int):
    account = _account_or_404(account_id)
    mapping = _mapping_or_404(account, mapping_id)
    form = SkuMappingForm(obj=mapping if request.method == "GET" else None,
                          account_id=account.id, mapping_id=mapping.id)
    if form.validate_on_submit():
        mapping.product_sku, mapping.house_sku = form.product_sku.data, form.house_sku.data
        db.session.commit()
        flash(f"Saved the mapping of {mapping.product_sku}.", "success")
        return redirect(url_for("mappings.skus", account_id=account.id))
    return render_template("mappings/edit.html", account=account, form=form, tab="skus",
                           title=f"Edit the mapping of {mapping.product_sku}",
                           fields=[form.product_sku, form.house_sku],
                           back=url_for("mappings.skus", account_id=account.id)), \
        400 if form.errors else 200


@bp.route("/<int:account_id>/skus/<int:mapping_id>/delete", methods=["GET", "POST"])
def delete_sku(account_id: int, mapping_id: int):
    account = _account_or_404(account_id)
    mapping = _mapping_or_404(account, mapping_id)
    form = FlaskForm()
    back = url_for("mappings.skus", account_id=account.id)
    if request.method == "POST" and form.validate():
        db.session.delete(mapping)
        db.session.commit()
        flash(f"Deleted the mapping of {mapping.product_sku}; it goes to the house under its "
              "own SKU again.", "success")
        return redirect(back)
    return render_template("mappings/confirm.html", account=account, form=form, back=back,
                           tab="skus", title="Delete SKU mapping", button="Delete mapping",
                           message=f"Stop sending {mapping.product_sku} as "
                                   f"{mapping.house_sku}? Orders sent from now on carry "
                                   f"{mapping.product_sku} itself.")


# ------------------------------------------------------------------ ship profiles


def _profile_or_404(account: HouseAccount, profile_id: int) -> ShipProfile:
    profile = db.get_or_404(ShipProfile, profile_id)
    if profile.house_account_id != account.id:
        abort(404)
    return profile


def _save_profile(form: ShipProfileForm, profile: ShipProfile) -> None:
    """Copy the form onto ``profile`` and point exactly the listed products at it (two
    statements, however many products)."""
    profile.name = form.name.data.strip()
    profile.house_code = form.house_code.data.strip()
    profile.carrier = (form.carrier.data or "").strip()
    profile.method = (form.method.data or "").strip()
    profile.is_default = bool(form.is_default.data)
    db.session.flush()
    db.session.execute(update(Product).where(Product.ship_profile_id == profile.id,
                                             Product.id.not_in(form.product_ids))
                       .values(ship_profile_id=None))
    if form.product_ids:
        db.session.execute(update(Product).where(Product.id.in_(form.product_ids))
                           .values(ship_profile_id=profile.id))
    db.session.commit()


@bp.route("/<int:account_id>/profiles", methods=["GET", "POST"])
def profiles(account_id: int):
    """The account's ship profiles with how many products use each, and a form to add one."""
    account = _account_or_404(account_id)
    form = ShipProfileForm(account_id=account.id)
    if form.validate_on_submit():
        profile = ShipProfile(house_account_id=account.id)
        db.session.add(profile)
        _save_profile(form, profile)
        flash(f"Added ship profile “{profile.name}”.", "success")
        return redirect(url_for("mappings.profiles", account_id=account.id))
    if form.errors:
        flash("The profile was not added: correct the fields marked below.", "error")
    rows = db.session.scalars(select(ShipProfile).where(
        ShipProfile.house_account_id == account.id).order_by(ShipProfile.name)).all()
    counts = dict(db.session.execute(
        select(Product.ship_profile_id, func.count()).where(
            Product.ship_profile_id.in_([p.id for p in rows]))
        .group_by(Product.ship_profile_id)).all())
    return render_template("mappings/profiles.html", account=account, form=form, rows=rows,
                           counts=counts, tab="profiles"), 400 if form.errors else 200


@bp.route("/<int:account_id>/profiles/<int:profile_id>/edit", methods=["GET", "POST"])
def edit_profile(account_id: int, profile_id: int):
    account = _account_or_404(account_id)
    profile = _profile_or_404(account, profile_id)
    form = ShipProfileForm(obj=profile if request.method == "GET" else None,
                           account_id=account.id, profile_id=profile.id)
    if request.method == "GET":
        form.product_skus.data = "\n".join(db.session.scalars(
            select(Product.sku).where(Product.ship_profile_id == profile.id)
            .order_by(Product.sku)))
    if form.validate_on_submit():
        _save_profile(form, profile)
        flash(f"Saved ship profile “{profile.name}”.", "success")
        return redirect(url_for("mappings.profiles", account_id=account.id))
    return render_template("mappings/edit.html", account=account, form=form, tab="profiles",
                           title=f"Edit ship profile “{profile.name}”",
                           fields=[form.name, form.house_code, form.carrier, form.method,
                                   form.is_default, form.product_skus],
                           back=url_for("mappings.profiles", account_id=account.id)), \
        400 if form.errors else 200


@bp.route("/<int:account_id>/profiles/<int:profile_id>/delete", methods=["GET", "POST"])
def delete_profile(account_id: int, profile_id: int):
    account = _account_or_404(account_id)
    profile = _profile_or_404(account, profile_id)
    form = FlaskForm()
    back = url_for("mappings.profiles", account_id=account.id)
    using = db.session.scalar(select(func.count()).select_from(Product)
                              .where(Product.ship_profile_id == profile.id))
    if request.method == "POST" and form.validate():
        db.session.execute(update(Product).where(Product.ship_profile_id == profile.id)
                           .values(ship_profile_id=None))
        db.session.delete(profile)
        db.session.commit()
        flash(f"Deleted ship profile “{profile.name}”.", "success")
        return redirect(back)
    fallback = ("the account's default profile" if not profile.is_default
                else "no profile (this one is the default)")
    return render_template(
        "mappings/confirm.html", account=account, form=form, back=back, tab="profiles",
        title="Delete ship profile", button="Delete profile",
        message=f"Delete “{profile.name}” ({profile.house_code})? "
                + (f"{using} product{'s use' if using != 1 else ' uses'} it and will ship "
                   f"with {fallback}." if using else "No product uses it."))
