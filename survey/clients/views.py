"""Client settings pages: the list and creation of clients (admins), each client's branding
(admins, and managers for the clients they work for) and retention period (admins only: it is
the client's decision as controller, recorded by the centre's administrator), and the public
logo and colour stylesheet that respondent and public pages load.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from survey.audit import record_event
from survey.auth.roles import ADMINS, MANAGERS, actor_label, roles_required
from survey.clients.forms import ClientForm, CreateClientForm
from survey.clients.operations import (
    BRANDING_FIELDS,
    LOGO_MAX_BYTES,
    ClientSettingsError,
    create_client,
    logo_digest,
    reencode_logo,
    update_client,
)
from survey.clients.scope import clients_for
from survey.clients.web import choose_client
from survey.extensions import db
from survey.models import Client

blueprint = Blueprint("clients", __name__)

LOGO_ERRORS = {
    "logo_size": lambda: _("The logo is too large: at most %(size)s KB and 2,000 × 2,000 "
                           "pixels.", size=LOGO_MAX_BYTES // 1024),
    "logo_pixels": lambda: _("The logo is too large: at most %(size)s KB and 2,000 × 2,000 "
                             "pixels.", size=LOGO_MAX_BYTES // 1024),
    "logo_format": lambda: _("The logo must be a PNG or JPEG image."),
}


def _client_or_404(client_id: int) -> Client:
    """A client the signed-in user works for; any other is 404 (not disclosed)."""
    found = next((c for c in clients_for(db.session, current_user) if c.id == client_id), None)
    if found is None:
        abort(404)
    return found


def _list_page(form: CreateClientForm, status: int = 200) -> tuple[str, int]:
    clients = clients_for(db.session, current_user)
    return render_template("clients/index.html", clients=clients, form=form), status


@blueprint.get("/clients")
@roles_required(*MANAGERS)
def index() -> tuple[str, int] | Response:
    clients = clients_for(db.session, current_user)
    if current_user.role not in ADMINS and len(clients) == 1:
        # A manager of one client has no list to choose from: straight to its settings.
        return redirect(url_for(".edit", client_id=clients[0].id))
    return _list_page(CreateClientForm(formdata=None))


@blueprint.post("/clients")
@roles_required(*ADMINS)
def create() -> tuple[str, int] | Response:
    form = CreateClientForm()
    if not form.validate_on_submit():
        return _list_page(form, 400)
    try:
        client = create_client(db.session, form.slug.data or "", form.name.data or "",
                               actor=actor_label(), actor_id=current_user.id)
    except ClientSettingsError as error:
        db.session.rollback()
        form.slug.errors = [*form.slug.errors, _("A client has this short name already.")
                            if error.code == "slug_taken" else str(error)]
        return _list_page(form, 400)
    db.session.commit()
    flash(_("Client %(name)s created.", name=client.name), "status")
    return redirect(url_for(".edit", client_id=client.id))


def _edit_page(client: Client, form: ClientForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "clients/edit.html", client=client, form=form,
        may_set_retention=current_user.role in ADMINS,
        logo_url=logo_url(client), max_kb=LOGO_MAX_BYTES // 1024,
        several=len(clients_for(db.session, current_user)) > 1,
    ), status


@blueprint.get("/clients/<int:client_id>")
@roles_required(*MANAGERS)
def edit(client_id: int) -> tuple[str, int]:
    client = _client_or_404(client_id)
    return _edit_page(client, ClientForm(obj=client))


@blueprint.post("/clients/<int:client_id>")
@roles_required(*MANAGERS)
def save(client_id: int) -> tuple[str, int] | Response:
    client = _client_or_404(client_id)
    form = ClientForm()
    if not form.validate_on_submit():
        return _edit_page(client, form, 400)
    logo = None
    upload = request.files.get(form.logo.name)
    if upload is not None and upload.filename:
        try:
            logo = reencode_logo(upload.read(LOGO_MAX_BYTES + 1))
        except ClientSettingsError as error:
            form.logo.errors = [LOGO_ERRORS[error.code]()]
            return _edit_page(client, form, 400)
    values = {name: getattr(form, name).data for name in BRANDING_FIELDS}
    if current_user.role in ADMINS:
        values["retention_days"] = form.retention_days.data
    try:
        update_client(db.session, client, values, logo=logo, remove_logo=form.remove_logo.data,
                      actor=actor_label(), actor_id=current_user.id)
    except ClientSettingsError:  # the form's validators check the same rules first
        db.session.rollback()
        abort(400)
    db.session.commit()
    flash(_("The settings of %(name)s are saved.", name=client.name), "status")
    return redirect(url_for(".edit", client_id=client.id))


def logo_url(client: Client) -> str | None:
    digest = logo_digest(client.logo_sha256) if client.logo_mime else None
    return url_for("clients.logo", client_id=client.id, digest=digest) if digest else None


@blueprint.get("/brand/<int:client_id>/<digest>/logo")
def logo(client_id: int, digest: str) -> Response:
    """A client's logo, public (respondents and published results show it). The URL carries
    the content's hash, so it may be cached for a year; an old or guessed hash is 404."""
    client = db.session.scalar(select(Client).where(Client.id == client_id)
                               .execution_options(barometre_all_clients=True))
    if client is None or not client.logo_mime or logo_digest(client.logo_sha256) != digest:
        abort(404)
    response = Response(client.logo, mimetype=client.logo_mime)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.get("/brand/<colour>.css")
def colours(colour: str) -> Response:
    """The stylesheet that gives a page its client's main colour (no inline style: the CSP
    forbids it). The colour is the URL, checked readable again: nothing else goes in."""
    from survey.clients.operations import readable_colour

    value = f"#{colour}"
    if not readable_colour(value):
        abort(404)
    css = f":root {{ --accent: {value.lower()}; --info: {value.lower()}; }}\n"
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@blueprint.post("/client")
@login_required
def switch() -> Response:
    """Work for another client: the session remembers it; the home page is that client's (the
    page the switch was asked from may be the previous client's object, hence 404)."""
    try:
        client_id = int(request.form.get("client_id", ""))
    except ValueError:
        abort(400)
    if not choose_client(client_id):
        abort(404)  # a client this person may not work for is not disclosed
    chosen = next(c for c in clients_for(db.session, current_user) if c.id == client_id)
    record_event(db.session, "client.switch", actor=actor_label(), actor_id=current_user.id,
                 object_type="client", object_id=chosen.id, client_id=chosen.id,
                 summary={"client": chosen.slug})
    db.session.commit()
    flash(_("You now work for %(name)s.", name=chosen.name), "success")
    return redirect(url_for("main.home"))
