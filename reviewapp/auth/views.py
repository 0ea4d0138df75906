"""Log in, log out, change password, set password from a one-time link."""

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from reviewapp import throttle
from reviewapp.auth import bp, sessions
from reviewapp.auth.forms import ChangePasswordForm, LoginForm, SetPasswordForm
from reviewapp.auth.services import authenticate, change_password, set_password, user_from_token
from reviewapp.errors import ServiceError
from reviewapp.transaction import attempt


def safe_next(target: str | None) -> str | None:
    """Only our own absolute paths: no scheme, no host, no protocol-relative //."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


@bp.errorhandler(429)
def too_many_attempts(_error):
    """The lockout: one message, whichever limit was reached and whether the account exists."""
    flash(throttle.LOCKOUT_MESSAGE, "error")
    if request.endpoint == "auth.password" and current_user.is_authenticated:
        return render_template("auth/password.html", form=ChangePasswordForm()), 429
    return render_template("auth/login.html", form=LoginForm()), 429


@bp.route("/login", methods=["GET", "POST"])
@throttle.login_limits
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            throttle.note_failed_attempt()
            form.password.errors.append("Email or password is not correct.")
        else:
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(form.next.data) or url_for("dashboard.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # A copy of this session's cookies, wherever it is, must not outlive the logout.
        sessions.end_all(current_user._get_current_object())
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
@throttle.password_limits
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        outcome = attempt(change_password, current_user, form.current_password.data,
                          form.new_password.data)
        if outcome.ok:
            # The change ended every session; this one carries on under the new generation.
            remembered = current_app.config["REMEMBER_COOKIE_NAME"] in request.cookies
            login_user(current_user._get_current_object(), remember=remembered)
            flash("Your password has been changed. You are logged out everywhere else.",
                  "success")
            return redirect(url_for("dashboard.index"))
        if outcome.error.field == "current_password":
            throttle.note_failed_attempt()
        getattr(form, outcome.error.field or "new_password").errors.append(outcome.error.message)
    return render_template("auth/password.html", form=form)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password_from_link(token: str):
    try:
        user = user_from_token(token)
    except ServiceError as exc:
        return render_template("auth/link_invalid.html", message=exc.message), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        outcome = attempt(set_password, user, form.new_password.data)
        if outcome.ok:
            flash("Your password is set. You can log in now.", "success")
            return redirect(url_for("auth.login"))
        form.new_password.errors.append(outcome.error.message)
    return render_template("auth/set_password.html", form=form, user=user)
