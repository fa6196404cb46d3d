"""Admin › Users › API Users: the logins pull houses use to call our API.

An API user has a login ID, a generated password shown once (only its hash is stored),
an IP allow-list, the endpoints it may call and the house accounts it serves. API users
live in their own table and cannot log into the dashboard. Admins only: support staff
get 403 on every page here. Pages that show a password are never cached.
"""
from __future__ import annotations

import json

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.security import generate_password_hash
from wtforms import SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from adapters import HOUSES, pull_houses
from dashboard.access import admin_blueprint
from dashboard.api import api_auth
from dashboard.api.api_auth import PERMISSION_LABELS
from dashboard.api.openapi import ENDPOINTS, openapi_document
from dashboard.extensions import db
from dashboard.models import ApiUser, HouseAccount
from dashboard.pagination import keyset_page, parse_after
from dashboard.services import audit

bp = Blueprint("api_users", __name__, url_prefix="/admin/api-users", template_folder="templates")
admin_blueprint(bp)


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ApiUserForm(FlaskForm):
    label = StringField("Label", validators=[Length(max=120)],
                        description="Who uses this login, e.g. “ShipWorks, East warehouse”.")
    accounts = CheckboxListField("House accounts it serves", coerce=int,
                                 description="It sees and updates only these accounts' "
                                             "fulfillments.")
    permissions = CheckboxListField(
        "Endpoints it may call",
        choices=[SelectChoice(key, PERMISSION_LABELS[key]) for key in ApiUser.PERMISSIONS])
    ip_allowlist = TextAreaField(
        "Allowed IP addresses",
        description="One address or CIDR range per line, e.g. 203.0.113.7 or 203.0.113.0/24. "
                    "Calls from anywhere else are refused. 0.0.0.0/0 allows every IPv4 "
                    "address (not recommended).",
        render_kw={"rows": 4, "spellcheck": "false"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rows = db.session.execute(select(HouseAccount.id, HouseAccount.title,
                                         HouseAccount.adapter_key, HouseAccount.active)
                                  .order_by(HouseAccount.title)).all()
        self.accounts.choices = [SelectChoice(r.id, _account_label(r)) for r in rows]

    def validate_accounts(self, field):
        if not field.data:
            raise ValidationError("Choose at least one house account.")

    def validate_permissions(self, field):
        if not field.data:
            raise ValidationError("Choose at least one endpoint.")

    def validate_ip_allowlist(self, field):
        entries, errors = api_auth.parse_allowlist(field.data)
        if errors:
            raise ValidationError(" ".join(errors))
        if not entries:
            raise ValidationError("Enter at least one IP address or range the house calls "
                                  "from.")
        field.data = "\n".join(entries)


class NewApiUserForm(ApiUserForm):
    login_id = StringField(
        "Login ID",
        validators=[DataRequired(message="Login ID is required."),
                    Length(min=3, max=api_auth.LOGIN_ID_MAX,
                           message="Use 3 to 32 characters."),
                    Regexp(r"^[A-Za-z0-9._\-]+$",
                           message="Use letters, digits, dots, dashes and underscores only.")],
        description="What the house enters as its login ID (or ShipWorks username).")

    def validate_login_id(self, field):
        field.data = field.data.strip()
        if db.session.scalar(select(ApiUser.id).where(
                func.lower(ApiUser.login_id) == field.data.lower())):
            raise ValidationError("Another API user already has this login ID.")


def _account_label(row) -> str:
    house = HOUSES.get(row.adapter_key)
    label = f"{row.title} ({house.name if house else row.adapter_key})"
    return label if row.active else label + " — deactivated"


def _user_or_404(user_id: int) -> ApiUser:
    return db.get_or_404(ApiUser, user_id)


def _describe(user: ApiUser) -> str:
    """An API user's settings for the audit log (never its password)."""
    return (f"“{user.login_id}”: accounts {', '.join(a.title for a in user.accounts) or 'none'};"
            f" endpoints {user.permissions or 'none'}; allowed IPs "
            f"{' '.join(user.ip_allowlist.split()) or 'none'}")


def _apply(form: ApiUserForm, user: ApiUser) -> None:
    user.label = (form.label.data or "").strip()
    user.permissions = ",".join(p for p in ApiUser.PERMISSIONS if p in form.permissions.data)
    user.ip_allowlist = form.ip_allowlist.data
    user.accounts = list(db.session.scalars(
        select(HouseAccount).where(HouseAccount.id.in_(form.accounts.data))))


def _no_store(response):
    """A page showing a password must not be kept by the browser or any proxy."""
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _credentials_page(user: ApiUser, password: str, *, title: str):
    """The one time a password is shown: with what to give each house it serves."""
    pulling = pull_houses()
    houses = [pulling[key] for key in dict.fromkeys(a.adapter_key for a in user.accounts)
              if key in pulling]
    return _no_store(render_template(
        "api_users/credentials.html", user=user, password=password, title=title,
        houses=houses, base_url=request.url_root.rstrip("/"),
        module_url=url_for("shipworks.module", _external=True),
        granted=api_auth.permissions_of(user), endpoints=ENDPOINTS))


def _create(form: NewApiUserForm) -> tuple[ApiUser, str]:
    password = api_auth.generate_password()
    user = ApiUser(login_id=form.login_id.data, password_hash=generate_password_hash(password),
                   created_by=current_user.email)
    _apply(form, user)
    db.session.add(user)
    db.session.flush()
    audit.record("api_user", user.id, "created", _describe(user))
    db.session.commit()
    return user, password


# ------------------------------------------------------------------ pages


@bp.route("/")
def index():
    stmt = select(ApiUser).options(selectinload(ApiUser.accounts))
    page = keyset_page(db.session, stmt, ApiUser.id, parse_after(request.args.get("after")),
                       size=50)
    return render_template("api_users/index.html", page=page, labels=PERMISSION_LABELS,
                           action_form=FlaskForm())


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = NewApiUserForm()
    if form.validate_on_submit():
        user, password = _create(form)
        flash(f"Created API user “{user.login_id}”. Copy the password now: it is shown only "
              "once.", "success")
        return _credentials_page(user, password, title="API user created")
    if form.is_submitted():
        flash("The API user was not created: correct the fields marked below.", "error")
    return render_template("api_users/form.html", form=form, user=None, account=None), \
        400 if form.errors else 200


@bp.route("/setup/<int:account_id>", methods=["GET", "POST"])
def setup(account_id: int):
    """Step two of activating a pull house: the API user its software logs in with."""
    account = db.get_or_404(HouseAccount, account_id)
    house = pull_houses().get(account.adapter_key)
    if house is None:
        abort(404)
    form = NewApiUserForm()
    if request.method == "GET":
        form.login_id.data = _suggest_login(account)
        form.label.data = f"{house.name} — {account.title}"[:120]
        form.accounts.data = [account.id]
        form.permissions.data = list(house.permissions)
    if form.validate_on_submit():
        user, password = _create(form)
        flash(f"Created API user “{user.login_id}” for {house.name}. Give the house the "
              "details below; the password is shown only once.", "success")
        return _credentials_page(user, password, title=f"Connect {house.name}")
    if form.is_submitted():
        flash("The API user was not created: correct the fields marked below.", "error")
    existing = db.session.scalars(select(ApiUser).where(ApiUser.accounts.any(
        HouseAccount.id == account.id)).order_by(ApiUser.id)).all()
    return render_template("api_users/form.html", form=form, user=None, account=account,
                           house=house, existing=existing), 400 if form.errors else 200


def _suggest_login(account: HouseAccount) -> str:
    base = "".join(c if c.isalnum() else "-" for c in
                   f"{account.adapter_key}-{account.id}".lower())[:28]
    taken = set(db.session.scalars(select(ApiUser.login_id)
                                   .where(ApiUser.login_id.like(base + "%"))))
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, 1000) if f"{base}-{n}" not in taken)


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
def edit(user_id: int):
    user = _user_or_404(user_id)
    form = ApiUserForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.accounts.data = [a.id for a in user.accounts]
        form.permissions.data = sorted(api_auth.permissions_of(user))
    if form.validate_on_submit():
        before = _describe(user)
        _apply(form, user)
        audit.record("api_user", user.id, "edited", f"was {before}; now {_describe(user)}")
        db.session.commit()
        flash(f"Saved API user “{user.login_id}”.", "success")
        return redirect(url_for("api_users.index"))
    if form.is_submitted():
        flash("Nothing was saved: correct the fields marked below.", "error")
    return render_template("api_users/form.html", form=form, user=user, account=None), \
        400 if form.errors else 200


@bp.route("/<int:user_id>/toggle", methods=["POST"])
def toggle(user_id: int):
    user = _user_or_404(user_id)
    if FlaskForm().validate():
        user.active = not user.active
        audit.record("api_user", user.id, "enabled" if user.active else "disabled",
                     f"“{user.login_id}”")
        db.session.commit()
        flash(f"API user “{user.login_id}” is {'enabled' if user.active else 'disabled'}"
              + ("." if user.active else "; its calls are refused until you enable it."),
              "success")
    return redirect(url_for("api_users.index"))


@bp.route("/<int:user_id>/rotate", methods=["GET", "POST"])
def rotate(user_id: int):
    user = _user_or_404(user_id)
    form = FlaskForm()
    if request.method == "POST" and form.validate():
        password = api_auth.generate_password()
        user.password_hash = generate_password_hash(password)
        audit.record("api_user", user.id, "password rotated", f"“{user.login_id}”")
        db.session.commit()
        flash(f"New password for “{user.login_id}”. The old one no longer works; give the "
              "house this one now, it is shown only once.", "success")
        return _credentials_page(user, password, title="Password rotated")
    return render_template("api_users/confirm.html", user=user, form=form,
                           title="Rotate password", button="Rotate password",
                           message=f"Give “{user.login_id}” a new password? The current one "
                                   "stops working at once: the house cannot call until you "
                                   "enter the new one in its software.")


@bp.route("/<int:user_id>/delete", methods=["GET", "POST"])
def delete(user_id: int):
    user = _user_or_404(user_id)
    form = FlaskForm()
    if request.method == "POST" and form.validate():
        login_id = user.login_id
        audit.record("api_user", user.id, "deleted", f"“{login_id}”")
        db.session.delete(user)
        db.session.commit()
        flash(f"Deleted API user “{login_id}”.", "success")
        return redirect(url_for("api_users.index"))
    return render_template("api_users/confirm.html", user=user, form=form, danger=True,
                           title="Delete API user", button="Delete",
                           message=f"Delete “{user.login_id}”? The house using it can no "
                                   "longer pull orders or send tracking. To pause it instead, "
                                   "disable it.")


@bp.route("/help")
def help_page():
    """The API reference for merchants and house developers, rendered from the OpenAPI
    description itself."""
    document = openapi_document(request.url_root.rstrip("/"), api_auth.rate_limit())
    examples = {e.path: json.dumps(e.example["response"], indent=2, ensure_ascii=False)
                for e in ENDPOINTS}
    return render_template("api_users/help.html", document=document, endpoints=ENDPOINTS,
                           examples=examples,
                           labels=PERMISSION_LABELS,
                           module_url=url_for("shipworks.module", _external=True))
