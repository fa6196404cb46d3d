"""House accounts: the credential form an adapter declares, saving it encrypted, and the
adapter client an account's credentials build."""
from __future__ import annotations

from flask import current_app
from flask_wtf import FlaskForm
from sqlalchemy import func, select, update
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from adapters import get_house
from adapters.base import CredentialField, FieldKind
from dashboard import credentials
from dashboard.extensions import db
from dashboard.models import Fulfillment, HouseAccount, Product
from dashboard.status import OPEN

#: the prefix of adapter fields in the generated form, apart from our own fields
PREFIX = "cred_"


class AccountFormBase(FlaskForm):
    title = StringField("Title", validators=[DataRequired(message="Give the account a title."),
                                             Length(max=120)],
                        description="How this account is named in lists, e.g. \"East warehouse\".")
    send_immediately = BooleanField(
        "Send orders as soon as they are placed",
        description="Otherwise orders wait for the hourly run.")


def _check_with(spec: CredentialField, keep_stored: bool):
    def check(_form, field):
        value = field.data if spec.kind is FieldKind.CHECKBOX else (field.data or "").strip()
        if spec.kind is FieldKind.SECRET and not value and keep_stored:
            return  # blank keeps the stored secret
        message = spec.check("1" if value is True else ("" if value is False else value))
        if message:
            raise ValidationError(message)
    return check


def account_form(adapter_cls, account: HouseAccount | None = None, formdata=None):
    """Build the Activate/Edit form from the fields the adapter declares.

    Secrets are password inputs that never render a value; on edit a blank secret keeps
    the stored one.
    """
    attrs = {}
    for spec in adapter_cls.fields:
        validators = [_check_with(spec, keep_stored=account is not None)]
        kwargs = {"description": spec.help, "validators": validators}
        if spec.kind is FieldKind.SECRET:
            field = PasswordField(spec.label, **kwargs)
        elif spec.kind is FieldKind.CHOICE:
            field = SelectField(spec.label, choices=[SelectChoice(v, label) for v, label in spec.choices],
                                default=spec.default,
                                validate_choice=False, **kwargs)
        elif spec.kind is FieldKind.CHECKBOX:
            field = BooleanField(spec.label, default=spec.default in ("1", "true", "on"),
                                 **kwargs)
        else:
            field = StringField(spec.label, default=spec.default, **kwargs)
        attrs[PREFIX + spec.name] = field
    form_cls = type(f"{adapter_cls.__name__}Form", (AccountFormBase,), attrs)
    form = form_cls(formdata=formdata)
    if account is not None and formdata is None:
        stored = credentials.decrypt(account.credentials_encrypted)
        form.title.data = account.title
        form.send_immediately.data = account.send_immediately
        for spec in adapter_cls.fields:
            if spec.kind is FieldKind.SECRET:
                continue
            field = form[PREFIX + spec.name]
            value = stored.get(spec.name, spec.default)
            field.data = value in ("1", "true", "on") if spec.kind is FieldKind.CHECKBOX else value
    return form


def field_groups(form, adapter_cls) -> tuple[list, list]:
    """(main fields, advanced fields) of a generated form, in declaration order."""
    main, advanced = [], []
    for spec in adapter_cls.fields:
        (advanced if spec.advanced else main).append((form[PREFIX + spec.name], spec))
    return main, advanced


def _values(form, adapter_cls, stored: dict[str, str]) -> dict[str, str]:
    values = {}
    for spec in adapter_cls.fields:
        data = form[PREFIX + spec.name].data
        if spec.kind is FieldKind.CHECKBOX:
            values[spec.name] = "1" if data else ""
        elif spec.kind is FieldKind.SECRET and not (data or "").strip():
            values[spec.name] = stored.get(spec.name, "")
        else:
            values[spec.name] = (data or "").strip()
    return values


def create_account(adapter_key: str, form) -> HouseAccount:
    adapter_cls = get_house(adapter_key)
    account = HouseAccount(adapter_key=adapter_key, title=form.title.data.strip(),
                           send_immediately=form.send_immediately.data,
                           credentials_encrypted=credentials.encrypt(
                               _values(form, adapter_cls, {})))
    db.session.add(account)
    db.session.commit()
    return account


def update_account(account: HouseAccount, form) -> None:
    stored = credentials.decrypt(account.credentials_encrypted)
    account.title = form.title.data.strip()
    account.send_immediately = form.send_immediately.data
    account.credentials_encrypted = credentials.encrypt(
        _values(form, account.adapter_class, stored))
    db.session.commit()


def open_fulfillment_count(account_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Fulfillment).where(
        Fulfillment.house_account_id == account_id,
        Fulfillment.status.in_([s.value for s in OPEN] + ["failed"])))


def assign_to_all_products(account: HouseAccount) -> int:
    """Point every base product at ``account`` in one statement; return how many changed."""
    changed = db.session.execute(
        update(Product).where((Product.house_account_id != account.id)
                              | Product.house_account_id.is_(None))
        .values(house_account_id=account.id)).rowcount
    db.session.commit()
    return changed


def adapter_for(account: HouseAccount):
    """The house client built from ``account``'s decrypted credentials."""
    values = credentials.decrypt(account.credentials_encrypted)
    cls = account.adapter_class
    return cls(values, base_url=values.get("base_url") or None,
               timeout=current_app.config["HTTP_TIMEOUT"],
               clock=current_app.config.get("CLOCK"))
