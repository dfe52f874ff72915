"""User administration (admins) and the audit trail (admins, managers and auditors)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from survey.admin.forms import (
    ActiveForm,
    AuditFilterForm,
    ClientsForm,
    CreateUserForm,
    ResetForm,
    RoleForm,
)
from survey.admin.operations import actor_user_id, campaign_choices, trail_actions, trail_page
from survey.audit import verify_chain
from survey.auth.operations import (
    AccountError,
    create_password_reset,
    create_user,
    generate_password,
    list_users,
    set_active,
    set_role,
)
from survey.auth.roles import ADMINS, READERS, actor_label, roles_required
from survey.clients.operations import (
    ClientChoiceError,
    check_clients,
    set_user_clients,
    user_client_ids,
)
from survey.extensions import db
from survey.labels import label
from survey.models import Client, User, UserClient

blueprint = Blueprint("admin", __name__)


def _users_page(create_form: CreateUserForm, *, created: User | None = None,
                password: str | None = None, status: int = 200) -> tuple[str, int, dict]:
    users = list_users(db.session)
    clients = _client_choices()
    create_form.clients.choices = clients
    limits: dict[int, list[int]] = {}
    for row in db.session.scalars(select(UserClient)):
        limits.setdefault(row.user_id, []).append(row.client_id)
    client_forms = {}
    for u in users:
        form = ClientsForm(prefix=f"c{u.id}", clients=limits.get(u.id, []))
        form.clients.choices = clients
        client_forms[u.id] = form
    page = render_template(
        "admin/users.html", users=users, create_form=create_form,
        role_forms={u.id: RoleForm(prefix=f"u{u.id}", role=u.role) for u in users},
        active_form=ActiveForm(), reset_form=ResetForm(), created=created, password=password,
        settings_url=_settings_url(),
        clients=clients, client_forms=client_forms,
        client_names=dict(clients),
        limits=limits,
    )
    # The page may show a password once: no cache may keep a copy of it.
    return page, status, {"Cache-Control": "no-store"}


def _settings_url() -> str:
    """The branding and retention settings: the only client's page, else the list of clients
    (a centre working for itself never sees the word)."""
    from survey.clients.scope import only_client_id

    only = only_client_id(db.session)
    return url_for("clients.edit", client_id=only) if only else url_for("clients.index")


def _client_choices() -> list[tuple[int, str]]:
    """Every client (an admin's pages are the installation's), by name."""
    return [(client.id, client.name) for client in db.session.scalars(
        select(Client).order_by(Client.name))]


def _client_error() -> str:
    return _("A client viewer belongs to exactly one client: choose it in the Clients column "
             "first.")


@blueprint.get("/admin/users")
@roles_required(*ADMINS)
def users() -> tuple[str, int, dict]:
    return _users_page(CreateUserForm())


@blueprint.post("/admin/users")
@roles_required(*ADMINS)
def create() -> tuple[str, int, dict]:
    form = CreateUserForm()
    if not form.validate_on_submit():
        return _users_page(form, status=400)
    # Generated, never typed by the admin: it is shown once on this page, and neither kept
    # in clear nor put in the (signed, not encrypted) session cookie as a flash would be.
    password = generate_password()
    try:
        kept = check_clients(db.session, form.role.data or "", form.clients.data or [])
    except ClientChoiceError:
        form.clients.errors = [*form.clients.errors, _("A client viewer belongs to exactly "
                                                       "one client: choose one.")]
        return _users_page(form, status=400)
    try:
        user = create_user(db.session, form.email.data or "", form.role.data or "", password,
                           actor=actor_label())
    except AccountError as error:
        db.session.rollback()
        form.email.errors = [*form.email.errors, str(error)]
        return _users_page(form, status=400)
    if kept:
        set_user_clients(db.session, user, kept, actor=actor_label(), actor_id=current_user.id)
    db.session.commit()
    return _users_page(CreateUserForm(formdata=None), created=user, password=password)


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@blueprint.post("/admin/users/<int:user_id>/role")
@roles_required(*ADMINS)
def change_role(user_id: int) -> Response:
    user = _user_or_404(user_id)
    form = RoleForm(prefix=f"u{user.id}")
    if not form.validate_on_submit():
        abort(400)
    try:
        changed = set_role(db.session, user, form.role.data or "", actor=actor_label(),
                           actor_id=current_user.id)
        # An admin works for every client; a client's viewer for exactly one.
        set_user_clients(db.session, user, user_client_ids(db.session, user),
                         actor=actor_label(), actor_id=current_user.id)
    except AccountError as error:
        db.session.rollback()
        flash(str(error), "error")
    except ClientChoiceError:
        db.session.rollback()
        flash(_client_error(), "error")
    else:
        db.session.commit()
        if changed:
            flash(_("%(email)s is now %(role)s.", email=user.email,
                    role=label(user.role, "Role")), "status")
    return redirect(url_for(".users"))


@blueprint.post("/admin/users/<int:user_id>/clients")
@roles_required(*ADMINS)
def change_clients(user_id: int) -> Response:
    """Limit a manager or auditor to some clients (none: every client), or give a client's
    viewer their client."""
    user = _user_or_404(user_id)
    form = ClientsForm(prefix=f"c{user.id}")
    if not form.validate_on_submit():
        abort(400)
    try:
        changed = set_user_clients(db.session, user, form.clients.data or [],
                                   actor=actor_label(), actor_id=current_user.id)
    except ClientChoiceError:
        db.session.rollback()
        flash(_client_error(), "error")
    else:
        db.session.commit()
        if changed:
            flash(_("The clients of %(email)s are changed.", email=user.email), "status")
    return redirect(url_for(".users"))


@blueprint.post("/admin/users/<int:user_id>/active")
@roles_required(*ADMINS)
def change_active(user_id: int) -> Response:
    user = _user_or_404(user_id)
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400)
    active = form.active.data == "1"
    try:
        changed = set_active(db.session, user, active, actor=actor_label(),
                             actor_id=current_user.id)
    except AccountError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        if changed:
            flash(_("%(email)s reactivated.", email=user.email) if active
                  else _("%(email)s deactivated.", email=user.email), "status")
    return redirect(url_for(".users"))


@blueprint.post("/admin/users/<int:user_id>/reset")
@roles_required(*ADMINS)
def send_reset(user_id: int) -> Response:
    """Email a one-time link to choose a new password (valid one hour)."""
    from flask import current_app

    from survey.auth.mail import MailError, send_password_reset
    from survey.models import PasswordReset

    user = _user_or_404(user_id)
    if not ResetForm().validate_on_submit():
        abort(400)
    try:
        token = create_password_reset(db.session, user, actor=actor_label(),
                                      actor_id=current_user.id)
    except AccountError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for(".users"))
    reset_id = db.session.scalar(
        select(PasswordReset.id).where(PasswordReset.user_id == user.id)
        .order_by(PasswordReset.id.desc()).limit(1))
    link = current_app.config["BASE_URL"].rstrip("/") + url_for("auth.reset", token=token)
    try:
        send_password_reset(current_app.config, user, link, reset_id or 0)
    except MailError as error:
        db.session.rollback()
        flash(_("The email could not be sent: %(reason)s", reason=str(error)), "error")
        return redirect(url_for(".users"))
    db.session.commit()
    flash(_("A link to choose a new password was sent to %(email)s; it works once, for one "
            "hour.", email=user.email), "status")
    return redirect(url_for(".users"))


@blueprint.get("/audit")
@roles_required(*READERS)
def audit() -> str:
    campaigns = campaign_choices(db.session)
    actions = trail_actions(db.session)
    form = AuditFilterForm(request.args)
    form.campaign.choices = [SelectChoice("", _("All campaigns"))] + [
        SelectChoice(str(i), slug) for i, slug in campaigns]
    form.action.choices = [SelectChoice("", _("All actions"))] + [
        SelectChoice(a, label(a, "audit_action")) for a in actions]
    # Unknown values (a tampered or stale link) show the whole trail rather than an error.
    valid = form.validate()
    campaign_id = int(form.campaign.data) if valid and form.campaign.data else None
    trail = trail_page(
        db.session, campaign_id=campaign_id,
        action=form.action.data if valid and form.action.data else None,
        page=form.page.data if valid and form.page.data else 1,
    )
    return render_template("admin/audit.html", form=form, trail=trail,
                           verification=_verification(), actor_user_id=actor_user_id,
                           filters={"campaign": form.campaign.data if valid else None,
                                    "action": form.action.data if valid else None})


def _verification():
    """The chain checked against the head recorded in the instance folder (a head file that
    cannot be read is shown as a broken anchor, not as an error page)."""
    from survey.audit import AuditTrailError, read_head

    try:
        head = read_head(current_app.config["INSTANCE_PATH"])
    except AuditTrailError:
        head = None
    return verify_chain(db.session, head=head)
