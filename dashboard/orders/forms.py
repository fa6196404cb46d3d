"""Order Entry's form and the address fields it shares with the review's address fix."""
from __future__ import annotations

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, FieldList, Form, FormField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from dashboard.extensions import db
from dashboard.geo import address_errors
from dashboard.models import Product


class LineForm(Form):
    product_id = SelectField("Product", coerce=int, validate_choice=False)
    quantity = IntegerField("Quantity", default=1, validators=[
        Optional(), NumberRange(min=1, max=999, message="Quantity must be 1 to 999.")])


class AddressFields:
    first_name = StringField("First name", validators=[
        DataRequired(message="First name is required."), Length(max=80)])
    last_name = StringField("Last name", validators=[
        DataRequired(message="Last name is required."), Length(max=80)])
    email = EmailField("Email", validators=[
        DataRequired(message="Email is required."), Email(message="Enter a valid email address."),
        Length(max=254)])
    phone = StringField("Phone", validators=[Optional(), Length(max=40)])
    address1 = StringField("Address line 1", validators=[
        DataRequired(message="Address is required."), Length(max=200)])
    address2 = StringField("Address line 2", validators=[Optional(), Length(max=200)])
    city = StringField("City", validators=[
        DataRequired(message="City is required."), Length(max=100)])
    state = StringField("State / region", validators=[Optional(), Length(max=60)])
    postal_code = StringField("ZIP / postal code", validators=[Optional(), Length(max=20)])
    country = StringField("Country (ISO code)", default="US", validators=[
        DataRequired(message="Country is required."), Length(max=2)])

    ADDRESS_FIELDS = ("first_name", "last_name", "email", "phone", "address1", "address2",
                      "city", "state", "postal_code", "country")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for name, message in address_errors(self.country.data, self.state.data,
                                            self.postal_code.data).items():
            self[name].errors = list(self[name].errors) + [message]
            ok = False
        return ok

    def address_data(self) -> dict[str, str]:
        data = {name: (self[name].data or "").strip() for name in self.ADDRESS_FIELDS}
        data["country"] = data["country"].upper()
        if data["country"] == "US":
            data["state"] = data["state"].upper()
        data["email"] = data["email"].lower()
        return data


class OrderEntryForm(AddressFields, FlaskForm):
    lines = FieldList(FormField(LineForm), min_entries=4, max_entries=20)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        chosen = [entry for entry in self.lines if entry.product_id.data]
        if not chosen:
            self.lines.errors.append("Pick at least one product.")
            return False
        known = set(db.session.scalars(select(Product.id).where(
            Product.id.in_([e.product_id.data for e in chosen]))))
        for entry in chosen:
            if entry.product_id.data not in known:
                entry.product_id.errors.append("That product no longer exists.")
                ok = False
            if not entry.quantity.data:
                entry.quantity.errors.append("Enter a quantity.")
                ok = False
        return ok
