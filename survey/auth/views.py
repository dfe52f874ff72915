import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from survey.audit import record_event
from survey.auth.forms import ChangePasswordForm, LoginForm, NewPasswordForm
from survey.auth.operations import (
    AccountError,
    authenticate,
    change_password,
    reset_password,
    reset_target,
)
from survey.auth.sessions import SESSION_KEY, end_session, start_session
from survey.extensions import db

# The respondents' link throttle counts failures per address in a sliding window: the same
# mechanism slows down password guessing from one address across many accounts, which the
# per-account lockout (`survey.auth.operations`) does not see.
from survey.throttle import SharedThrottle, throttle

blueprint = Blueprint("auth", __name__)

# Failed logins per client address in any window, before the address is refused (429) until
# the oldest failure leaves the window. Counted across every server (Redis or the database,
# `survey.throttle`), like the links' throttle; the per-account lockout holds as well.
LOGIN_ADDRESS_LIMIT = 20
LOGIN_ADDRESS_WINDOW_SECONDS = 15 * 60


def _address_throttle() -> SharedThrottle:
    return throttle("login_address", LOGIN_ADDRESS_LIMIT, LOGIN_ADDRESS_WINDOW_SECONDS)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: a login must never redirect elsewhere."""
    if not target:
        return url_for("main.home")
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        # Browsers read a backslash as a slash: "/\evil.example" is another site.
        or "\\" in target
        or any(ord(char) < 32 for char in target)
    ):
        return url_for("main.home")
    return target


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int, dict[str, str]]:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    address = request.remote_addr or "unknown"
    if request.method == "POST":
        retry_after = _address_throttle().retry_after(address)
        if retry_after is not None:
            flash(_("Too many failed logins from your connection. Please wait %(minutes)s "
                    "minutes and try again.", minutes=max(1, retry_after // 60)), "error")
            page = render_template("auth/login.html", form=form)
            return page, 429, {"Retry-After": str(retry_after)}
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data or "", form.password.data or "")
        token = start_session(db.session, user) if user is not None else None
        db.session.commit()
        if user is not None:
            # Nothing of a previous visitor's session carries over but the language.
            language = session.get("lang")
            session.clear()
            if language:
                session["lang"] = language
            session[SESSION_KEY] = token
            login_user(user)
            # Permanent: the cookie expires after PERMANENT_SESSION_LIFETIME, not "never" as a
            # browser that restores its sessions would keep it.
            session.permanent = True
            session["seen_at"] = int(time.time())
            return redirect(_safe_next(form.next.data))
        _address_throttle().record_failure(address)
        flash(_("Unknown email address or wrong password."), "error")
    return render_template("auth/login.html", form=form)


@blueprint.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    record_event(
        db.session,
        "user.logout",
        actor=f"user:{current_user.id}",
        actor_id=current_user.id,
        object_type="user",
        object_id=current_user.id,
    )
    end_session(db.session, session.get(SESSION_KEY))
    db.session.commit()
    logout_user()
    session.pop("seen_at", None)
    session.pop(SESSION_KEY, None)
    return redirect(url_for("main.home"))


@blueprint.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> Response | str | tuple[str, int]:
    """A staff member changes their own password; their other sessions end."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            ended = change_password(db.session, current_user, form.current_password.data or "",
                                    form.new_password.data or "",
                                    keep_session=session.get(SESSION_KEY))
        except AccountError:
            db.session.rollback()
            form.current_password.errors = [_("The current password is wrong, or the new one "
                                              "is the same.")]
        else:
            db.session.commit()
            flash(_("Password changed. Your other sessions (%(count)d) were closed.",
                    count=ended), "status")
            return redirect(url_for("main.home"))
    page = render_template("auth/password.html", form=form, reset=False)
    return (page, 400) if request.method == "POST" else page


@blueprint.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> Response | tuple[str, int, dict[str, str]]:
    """The emailed one-time link: choose a new password, then log in."""
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    if reset_target(db.session, token) is None:
        page = render_template("auth/reset_invalid.html")
        return page, 404, headers
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            reset_password(db.session, token, form.new_password.data or "")
        except AccountError as error:
            db.session.rollback()
            form.new_password.errors = [str(error)]
        else:
            db.session.commit()
            logout_user()
            session.pop(SESSION_KEY, None)
            flash(_("Password set. Log in with it."), "status")
            return redirect(url_for("auth.login"))
    page = render_template("auth/password.html", form=form, reset=True)
    return page, 400 if request.method == "POST" else 200, headers
