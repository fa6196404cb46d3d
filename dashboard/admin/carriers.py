"""Admin > Carriers: the tracking API account of each carrier (USPS, UPS, FedEx, DHL Express).

A carrier needs one account: any account can track every number of its carrier. Without one,
that carrier's packages move only on the house's own delivery information. The credential
form is the one house accounts use (``house_accounts.account_form``), built from the fields
the carrier's tracker declares.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select

from adapters.base import AdapterError, FailureReason
from adapters.carriers import TRACKERS
from dashboard.access import admin_blueprint
from dashboard.clock import now
from dashboard.extensions import db
from dashboard.models import CarrierAccount
from dashboard.services import audit, connection_test, house_accounts
from dashboard.services.carrier_accounts import build_tracker

bp = Blueprint("carriers", __name__, url_prefix="/admin/carriers", template_folder="templates")
admin_blueprint(bp)

#: the carriers that take an account, in the order the tiles show them
CARRIER_TRACKERS = {cls.key: cls for cls in TRACKERS}


def _tracker_or_404(key: str):
    """The tracker class of a carrier that takes an account.

    :raise 404: an unknown key, or the Sandbox carrier, which needs no account
    """
    cls = CARRIER_TRACKERS.get(key)
    if cls is None:
        abort(404)
    return cls


def _account(key: str) -> CarrierAccount | None:
    return db.session.scalar(select(CarrierAccount).where(CarrierAccount.carrier_key == key)
                             .order_by(CarrierAccount.id.desc()).limit(1))


def _account_or_404(key: str) -> CarrierAccount:
    account = _account(key)
    if account is None:
        abort(404)
    return account


def _account_form(tracker_cls, account: CarrierAccount | None = None):
    form = house_accounts.account_form(tracker_cls, account, formdata=request.form or None,
                                       base=house_accounts.TitledAccountForm)
    form.title.description = f"How this account is named, e.g. \"{tracker_cls.name} main\"."
    return form


def _form_page(tracker_cls, form, account: CarrierAccount | None):
    main, advanced = house_accounts.field_groups(form, tracker_cls)
    return render_template("carriers/form.html", carrier=tracker_cls, form=form, main=main,
                           advanced=advanced, account=account), 400 if form.errors else 200


@bp.route("/")
def index():
    accounts = {a.carrier_key: a for a in db.session.scalars(
        select(CarrierAccount).order_by(CarrierAccount.id))}
    return render_template("carriers/index.html", carriers=TRACKERS, accounts=accounts,
                           at=now())


@bp.route("/<key>")
def show(key: str):
    tracker_cls = _tracker_or_404(key)
    return render_template("carriers/show.html", carrier=tracker_cls, account=_account(key),
                           action_form=FlaskForm(), at=now())


@bp.route("/<key>/connect", methods=["GET", "POST"])
def connect(key: str):
    tracker_cls = _tracker_or_404(key)
    if _account(key) is not None:
        flash(f"{tracker_cls.name} already has an account; edit it instead.", "warning")
        return redirect(url_for("carriers.show", key=key))
    form = _account_form(tracker_cls)
    if request.method == "GET":
        form.title.data = tracker_cls.name
    elif form.validate():
        account = CarrierAccount(carrier_key=key, title=form.title.data.strip(),
                                 credentials_encrypted="")
        house_accounts.store_credentials(account, form, tracker_cls)
        db.session.add(account)
        db.session.flush()
        audit.record("carrier_account", account.id, "created",
                     f"{tracker_cls.name} account “{account.title}”")
        db.session.commit()
        flash(f"{tracker_cls.name} account “{account.title}” is connected: {tracker_cls.name} "
              "packages are now tracked at the carrier. Click Test connection to check the "
              "credentials.", "success")
        return redirect(url_for("carriers.show", key=key))
    else:
        flash("The account was not created: correct the fields marked below.", "error")
    return _form_page(tracker_cls, form, None)


@bp.route("/<key>/edit", methods=["GET", "POST"])
def edit(key: str):
    tracker_cls = _tracker_or_404(key)
    account = _account_or_404(key)
    form = _account_form(tracker_cls, account)
    if request.method == "POST":
        if form.validate():
            renamed = account.title != form.title.data.strip()
            account.title = form.title.data.strip()
            changed = house_accounts.store_credentials(account, form, tracker_cls)
            audit.record("carrier_account", account.id, "edited",
                         f"“{account.title}”: changed "
                         f"{', '.join((['title'] if renamed else []) + changed) or 'nothing'}"
                         + (" (credential values are not logged)" if changed else ""))
            account.paused_until = None  # new credentials deserve a try at the next check
            db.session.commit()
            flash(f"Saved “{account.title}”.", "success")
            return redirect(url_for("carriers.show", key=key))
        flash("Nothing was saved: correct the fields marked below.", "error")
    return _form_page(tracker_cls, form, account)


@bp.route("/<key>/toggle", methods=["POST"])
def toggle(key: str):
    tracker_cls = _tracker_or_404(key)
    account = _account_or_404(key)
    if FlaskForm().validate():
        account.active = not account.active
        audit.record("carrier_account", account.id,
                     "activated" if account.active else "deactivated", f"“{account.title}”")
        db.session.commit()
        flash(f"{tracker_cls.name} tracking is on: packages are asked about at the carrier."
              if account.active else
              f"{tracker_cls.name} tracking is off: its packages move only on the house's own "
              "delivery information until you activate the account again.", "success")
    return redirect(url_for("carriers.show", key=key))


@bp.route("/<key>/delete", methods=["GET", "POST"])
def delete(key: str):
    tracker_cls = _tracker_or_404(key)
    account = _account_or_404(key)
    form = FlaskForm()
    if request.method == "POST" and form.validate():
        audit.record("carrier_account", account.id, "deleted",
                     f"“{account.title}” and its stored credentials")
        db.session.delete(account)
        db.session.commit()
        flash(f"Deleted “{account.title}” and its stored credentials.", "success")
        return redirect(url_for("carriers.show", key=key))
    return render_template(
        "carriers/confirm.html", carrier=tracker_cls, account=account, form=form,
        title=f"Delete {tracker_cls.name} account", button="Delete",
        message=f"Delete “{account.title}” and its stored credentials? {tracker_cls.name} "
                "packages will then move only on the house's own delivery information. To stop "
                "tracking for a while, deactivate it instead.")


@bp.route("/<key>/test", methods=["POST"])
def test_connection(key: str):
    tracker_cls = _tracker_or_404(key)
    account = _account_or_404(key)
    if FlaskForm().validate():
        category, message = _connection_report(tracker_cls, account)
        flash(message, category)
    return redirect(url_for("carriers.show", key=key))


def _connection_report(tracker_cls, account: CarrierAccount) -> tuple[str, str]:
    """Track the carrier's sample number with the account and say plainly how it went:
    (flash category, sentence)."""
    name = tracker_cls.name
    tracker = build_tracker(account.carrier_key, account.credentials_encrypted)
    try:
        [event] = tracker.track([tracker_cls.probe_number])
    except AdapterError as exc:
        if exc.reason is FailureReason.CREDENTIALS:
            return "error", f"Bad credentials: {exc}"
        if exc.transient:
            return "error", (f"Unreachable: {exc} Check the API base URL under Advanced "
                             "settings, or try again later.")
        return "error", f"Test connection failed: {exc}"
    except connection_test.SHAPE_ERRORS:
        return "error", (f"Test connection failed: {name} answered in a shape its API does "
                         "not use.")
    return "success", (f"Works: {name} accepted the credentials and answered about its sample "
                       f"number {tracker_cls.probe_number} (“{event.description}”).")
