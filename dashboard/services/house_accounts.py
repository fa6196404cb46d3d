"""House accounts: the credential form an adapter declares, saving it encrypted, and the
adapter client an account's credentials build.

The form and the encryption serve carrier accounts too (``dashboard.carriers``): both kinds
of account keep a title and ``credentials_encrypted``, and both adapters and carrier trackers
declare their inputs as ``CredentialField``s.
"""
from __future__ import annotations

import time

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
from dashboard.services import audit, outbound, shared_pacing
from dashboard.status import UNFINISHED, values

#: the prefix of adapter fields in the generated form, apart from our own fields
PREFIX = "cred_"


class TitledAccountForm(FlaskForm):
    """The field every account form starts with: how the account is named."""

    title = StringField("Title", validators=[DataRequired(message="Give the account a title."),
                                             Length(max=120)],
                        description="How this account is named in lists, e.g. \"East warehouse\".")


class AccountFormBase(TitledAccountForm):
    """A house account's own fields."""

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


def _base_url_policy(adapter_cls):
    def check(_form, field):
        message = outbound.problem(adapter_cls, (field.data or "").strip())
        if message:
            raise ValidationError(message)
    return check


def _input(spec: CredentialField, keep_stored: bool, adapter_cls):
    validators = [_check_with(spec, keep_stored)]
    if spec.name == outbound.BASE_URL:
        validators.append(_base_url_policy(adapter_cls))
    kwargs = {"description": spec.help, "validators": validators}
    if spec.kind is FieldKind.SECRET:
        return PasswordField(spec.label, **kwargs)
    if spec.kind is FieldKind.CHOICE:
        choices = [SelectChoice(value, label) for value, label in spec.choices]
        return SelectField(spec.label, choices=choices, default=spec.default,
                           validate_choice=False, **kwargs)
    if spec.kind is FieldKind.CHECKBOX:
        return BooleanField(spec.label, default=spec.default in ("1", "true", "on"), **kwargs)
    return StringField(spec.label, default=spec.default, **kwargs)


def account_form(adapter_cls, account=None, formdata=None, base: type = AccountFormBase):
    """Build the Activate/Edit form of an account from the fields ``adapter_cls`` (a house
    adapter or a carrier tracker) declares, after the fields of ``base``.

    On edit (``account`` given, no ``formdata``) the form shows the account's own fields and
    its stored credentials, except secrets: they are password inputs that never render a
    value, and a blank secret keeps the stored one — unless the base URL changes, which
    needs the secrets entered again (``outbound.secrets_to_reenter``).
    """
    attrs = {PREFIX + spec.name: _input(spec, account is not None, adapter_cls)
             for spec in adapter_cls.fields}
    if account is not None:
        attrs["validate"] = _revalidating(adapter_cls, account)
    form_cls = type(f"{adapter_cls.__name__}Form", (base,), attrs)
    editing = account is not None and formdata is None
    form = form_cls(formdata=formdata, obj=account if editing else None)
    if editing:
        stored = credentials.decrypt(account.credentials_encrypted)
        for spec in adapter_cls.fields:
            if spec.kind is FieldKind.SECRET:
                continue
            field = form[PREFIX + spec.name]
            value = spec.stored(stored)
            field.data = value in ("1", "true", "on") if spec.kind is FieldKind.CHECKBOX else value
    return form


def _revalidating(adapter_cls, account):
    """A ``validate`` that also refuses a changed base URL with a stored secret left blank."""
    def validate(form, extra_validators=None):
        valid = super(type(form), form).validate(extra_validators)
        stored = credentials.decrypt(account.credentials_encrypted)
        submitted = {spec.name: form[PREFIX + spec.name].data for spec in adapter_cls.fields
                     if spec.kind is not FieldKind.CHECKBOX}
        for name in outbound.secrets_to_reenter(adapter_cls.fields, stored, submitted):
            form[PREFIX + name].errors.append(
                "The API base URL changed: enter this secret again (it is not sent to a new "
                "host unseen).")
            valid = False
        return valid
    return validate


def field_groups(form, adapter_cls) -> tuple[list, list]:
    """(main fields, advanced fields) of a generated form, in declaration order."""
    main, advanced = [], []
    for spec in adapter_cls.fields:
        (advanced if spec.advanced else main).append((form[PREFIX + spec.name], spec))
    return main, advanced


def _values(form, adapter_cls, stored: dict[str, str]) -> dict[str, str]:
    """The credentials a submitted form holds; a blank secret is the ``stored`` one."""
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


def store_credentials(account, form, adapter_cls) -> list[str]:
    """Encrypt the form's credentials onto ``account`` (a house or carrier account), keeping
    a stored secret the form left blank; return the names of the fields that changed (for
    the audit log, which never sees the values). Does not commit."""
    stored = (credentials.decrypt(account.credentials_encrypted)
              if account.credentials_encrypted else {})
    values = _values(form, adapter_cls, stored)
    account.credentials_encrypted = credentials.encrypt(values)
    return audit.changed_fields(stored, values)


def create_account(adapter_key: str, form) -> HouseAccount:
    account = HouseAccount(adapter_key=adapter_key, title=form.title.data.strip(),
                           send_immediately=form.send_immediately.data,
                           credentials_encrypted="")
    store_credentials(account, form, get_house(adapter_key))
    db.session.add(account)
    db.session.flush()
    audit.record("house_account", account.id, "created",
                 f"{account.adapter_class.name} account “{account.title}”")
    db.session.commit()
    return account


def update_account(account: HouseAccount, form) -> None:
    before = (account.title, account.send_immediately)
    account.title = form.title.data.strip()
    account.send_immediately = form.send_immediately.data
    changed = store_credentials(account, form, account.adapter_class)
    settings = [name for name, old, new in (
        ("title", before[0], account.title),
        ("send immediately", before[1], account.send_immediately)) if old != new]
    audit.record("house_account", account.id, "edited",
                 f"“{account.title}”: changed {', '.join(settings + changed) or 'nothing'}"
                 + (" (credential values are not logged)" if changed else ""))
    db.session.commit()


def open_fulfillment_count(account_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Fulfillment).where(
        Fulfillment.house_account_id == account_id,
        Fulfillment.status.in_(values(UNFINISHED))))


def assign_to_all_products(account: HouseAccount) -> int:
    """Point every base product at ``account`` in one statement; return how many changed."""
    changed = db.session.execute(
        update(Product).where((Product.house_account_id != account.id)
                              | Product.house_account_id.is_(None))
        .values(house_account_id=account.id)).rowcount
    audit.record("product", None, "assigned to all",
                 f"{changed} product(s) now ship through “{account.title}” (#{account.id})")
    db.session.commit()
    return changed


def adapter_for(account: HouseAccount):
    """The house client built from ``account``'s decrypted credentials."""
    values = credentials.decrypt(account.credentials_encrypted)
    cls = account.adapter_class
    return outbound.build(cls, values, timeout=current_app.config["HTTP_TIMEOUT"],
                          clock=current_app.config.get("CLOCK"), pace=sleeper(),
                          max_pace=current_app.config["HOUSE_MAX_PACE"],
                          allowance=shared_pacing.for_account(account.id))


def sleeper():
    """How the app waits for a house (tests put a recorder in ``config["SLEEP"]``)."""
    return current_app.config.get("SLEEP") or time.sleep
