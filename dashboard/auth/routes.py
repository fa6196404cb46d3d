"""Logging in and out of the dashboard, changing one's password, and ending sessions.
API users cannot log in here.

Both login cookies (Flask's session and the "keep me logged in" cookie) carry the user's
id and server-side session token (``User.get_id``); the token changes on logout, a password
change, deactivation and "Log out everywhere", and a cookie with an old token is refused.
"""
from __future__ import annotations

import hmac

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from dashboard.extensions import db, login_manager
from dashboard.ids import parse_id
from dashboard.models import User
from dashboard.safe_redirect import local_path
from dashboard.services import audit, login_guard, password_policy

bp = Blueprint("auth", __name__, template_folder="templates")


@login_manager.user_loader
def load_user(cookie_id: str):
    """The user whose id and current session token the cookie holds, else None."""
    number, _, token = cookie_id.partition(":")
    number = parse_id(number)
    user = db.session.get(User, number) if number and token else None
    if user is None or not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Keep me logged in")


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=200)])
    new = PasswordField("New password", validators=[DataRequired(), Length(max=200)],
                        description="At least 10 characters and hard to guess: a few "
                                    "unrelated words work well.")
    confirm = PasswordField("New password again", validators=[
        DataRequired(), EqualTo("new", message="The two new passwords differ.")])

    def validate_new(self, field):
        message = password_policy.problem(field.data or "", email=current_user.email,
                                          name=current_user.name)
        if message:
            raise ValidationError(message)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("board.index"))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        lock = login_guard.locked(email)
        if lock:
            form.password.errors.append(lock)
            return render_template("auth/login.html", form=form), 429
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        known = user.password_hash if user and user.active else None
        if login_guard.check(known, form.password.data):
            login_user(user, remember=form.remember.data)
            flash(f"Welcome back, {user.display_name}.", "success")
            return redirect(local_path(request.args.get("next")) or url_for("board.index"))
        login_guard.count_failure(email)
        form.password.errors.append("That email and password do not match an active account.")
    return render_template("auth/login.html", form=form), 200 if request.method == "GET" \
        or not form.errors else 400


@bp.route("/logout", methods=["POST"])
def logout():
    """End the session: the token changes, so no copy of either cookie works again."""
    if current_user.is_authenticated:
        current_user.end_sessions()
        db.session.commit()
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    """Change one's own password; every other session ends, this one continues."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not login_guard.check(current_user.password_hash, form.current.data):
            form.current.errors.append("That is not your current password.")
        else:
            current_user.set_password(form.new.data)
            audit.record("user", current_user.id, "password changed",
                         f"{current_user.email} changed their password; other sessions ended.")
            db.session.commit()
            login_user(current_user._get_current_object())
            flash("Your password is changed; your other sessions are logged out.", "success")
            return redirect(url_for("auth.change_password"))
    return render_template("auth/password.html", form=form, sessions_form=FlaskForm()), \
        400 if form.errors else 200


@bp.route("/account/logout-everywhere", methods=["POST"])
def logout_everywhere():
    """End every session of this user on every device, this browser's too."""
    current_user.end_sessions()
    audit.record("user", current_user.id, "logged out everywhere", current_user.email)
    db.session.commit()
    logout_user()
    flash("You are logged out on every device.", "info")
    return redirect(url_for("auth.login"))
