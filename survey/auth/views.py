from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from survey.audit import record_event
from survey.auth.forms import LoginForm
from survey.auth.operations import authenticate
from survey.extensions import db

blueprint = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: a login must never redirect elsewhere."""
    if not target:
        return url_for("main.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("main.home")
    return target


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data or "", form.password.data or "")
        db.session.commit()
        if user is not None:
            login_user(user)
            return redirect(_safe_next(form.next.data))
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
    db.session.commit()
    logout_user()
    return redirect(url_for("main.home"))
