"""Distribution pages: webhooks, one-click opt-out, and the manager's campaign pages."""

from __future__ import annotations

import json
import re
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    send_from_directory,
    url_for,
)
from flask_babel import gettext
from sqlalchemy import func, select

from survey import CHART_PAGE_POLICY
from survey.auth.roles import MANAGERS, VIEWERS, actor_label, roles_required
from survey.campaigns.operations import CampaignError
from survey.clients.lookup import campaign_or_404
from survey.clients.scope import ALL_CLIENTS, current_client_id
from survey.distribution import webhooks
from survey.distribution.forms import CloseForm, LaunchForm, UnsubscribeForm
from survey.distribution.gsm import sms_length
from survey.distribution.operations import (
    close_campaign,
    invitation_by_token,
    launch_campaign,
    opt_out,
)
from survey.distribution.rendering import Outgoing, Wording, links_for
from survey.distribution.rendering import render_template as render
from survey.extensions import csrf, db
from survey.models import Channel, Invitation, Message

blueprint = Blueprint("distribution", __name__)

OUTBOX_FILE = re.compile(r"^[0-9]{8,}-(email|sms)\.(eml|txt)$")
EMAIL_PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; " \
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"


# --- webhooks -------------------------------------------------------------------------------


@blueprint.post("/webhooks/sendgrid")
@csrf.exempt
def sendgrid_webhook() -> tuple[str, int]:
    payload = request.get_data(cache=True)
    if not webhooks.sendgrid_signature_ok(
        current_app.config.get("SENDGRID_WEBHOOK_PUBLIC_KEY"), payload,
        request.headers.get("X-Twilio-Email-Event-Webhook-Signature"),
        request.headers.get("X-Twilio-Email-Event-Webhook-Timestamp"),
    ):
        return "bad signature\n", 403
    try:
        events = webhooks.parse_sendgrid_events(json.loads(payload))
    except (ValueError, webhooks.MalformedEvents) as exc:
        return f"malformed events: {exc}\n", 400
    webhooks.apply_sendgrid_events(db.session, events,
                                   secret_key=current_app.config["SECRET_KEY"])
    db.session.commit()
    return "ok\n", 200


@blueprint.post("/webhooks/twilio")
@csrf.exempt
def twilio_webhook() -> tuple[str, int]:
    url = f"{current_app.config['BASE_URL'].rstrip('/')}/webhooks/twilio"
    params = request.form.to_dict()
    if not webhooks.twilio_signature_ok(current_app.config.get("TWILIO_AUTH_TOKEN"), url, params,
                                        request.headers.get("X-Twilio-Signature")):
        return "bad signature\n", 403
    try:
        webhooks.apply_twilio_status(db.session, params,
                                     secret_key=current_app.config["SECRET_KEY"])
    except webhooks.MalformedEvents as exc:
        return f"malformed callback: {exc}\n", 400
    db.session.commit()
    return "", 204


# --- opting out -----------------------------------------------------------------------------


@blueprint.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str) -> str | tuple[str, int, dict[str, str]]:
    from survey.respond.throttle import link_throttle

    # Guessing opt-out links is throttled like guessing survey links: one count per address.
    address = request.remote_addr or "unknown"
    retry_after = link_throttle().blocked_here(address)
    if retry_after is not None:
        return (render_template("distribution/unsubscribe.html", invitation=None), 429,
                {"Retry-After": str(retry_after)})
    invitation = invitation_by_token(db.session, token)
    if invitation is None:
        db.session.rollback()  # only read: end it before counting (SQLite's write lock)
        retry_after = link_throttle().record_failure(address)
        if retry_after is not None:
            return (render_template("distribution/unsubscribe.html", invitation=None), 429,
                    {"Retry-After": str(retry_after)})
        return render_template("distribution/unsubscribe.html", invitation=None), 404, {}
    g.invitation_language = invitation.language
    form = UnsubscribeForm()
    if request.method == "POST":  # the confirmation form, or a mail client's one-click POST
        opt_out(db.session, invitation, secret_key=current_app.config["SECRET_KEY"],
                source="one-click" if "List-Unsubscribe" in request.form else "link")
        db.session.commit()
        return render_template("distribution/unsubscribe.html", invitation=invitation, done=True)
    return render_template("distribution/unsubscribe.html", invitation=invitation, form=form,
                           done=invitation.opted_out_at is not None)


# --- manager pages --------------------------------------------------------------------------




@blueprint.get("/manage/campaigns/<slug>/status")
@roles_required(*VIEWERS)  # dispositions and rates, no personal data: for a client too
def status(slug: str) -> Response:
    # Imported here: the statistics stack is heavy and the sender never needs it.
    from survey.distribution.status import campaign_status, fieldwork_figure

    campaign = campaign_or_404(slug)
    status = campaign_status(db.session, campaign)
    figure = fieldwork_figure(status, title=gettext("Completed questionnaires per day"),
                              completes_label=gettext("Completes"),
                              cumulative_label=gettext("Cumulative completes"))
    from survey.main.dashboard import campaign_cards

    card = campaign_cards(db.session, [campaign], with_headline=False)[0]
    page = make_response(render_template(
        "distribution/status.html", campaign=campaign, status=status, close_form=CloseForm(),
        figure_json=figure.replace("</", "<\\/"),  # stays in its block
        strata=card.strata, target=card.target,
    ))
    page.headers["Content-Security-Policy"] = CHART_PAGE_POLICY
    return page


@blueprint.get("/manage/assets/plotly.min.js")
def plotly_js() -> Response:
    """Plotly's own bundle, served as a file: the CSP allows no inline or foreign script."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return send_file(path, mimetype="text/javascript", max_age=86400)


def _sample_invitation(campaign) -> Invitation | None:  # noqa: ANN001
    return db.session.scalar(
        select(Invitation).where(Invitation.campaign_id == campaign.id)
        .order_by(Invitation.is_test, Invitation.id).limit(1))


@blueprint.get("/manage/campaigns/<slug>/messages")
@roles_required(*MANAGERS)
def messages(slug: str, error: str | None = None) -> str:
    campaign = campaign_or_404(slug)
    sample = _sample_invitation(campaign)
    language = request.args.get("language") or (sample.language if sample else "fr")
    language = language if language in ("fr", "en") else "fr"
    links = links_for(sample.token_salt if sample else "0" * 32)
    previews = []
    for channel in campaign.channels or [Channel.EMAIL.value]:
        for wording in (Wording.INVITATION, Wording.REMINDER, Wording.FINISH):
            message = Outgoing(0, channel, "", render(campaign, channel, wording, language),
                               links)
            preview = {"channel": channel, "wording": wording, "subject": message.subject,
                       "text": message.text, "headers": message.headers}
            if channel == Channel.SMS:
                preview["length"] = sms_length(message.text)
            previews.append(preview)
    # The launch's recap: how many invitations each channel will carry.
    per_channel = dict(db.session.execute(
        select(Invitation.channel, func.count())
        .where(Invitation.campaign_id == campaign.id, Invitation.is_test.is_(False))
        .group_by(Invitation.channel)
    ).all())
    return render_template("distribution/messages.html", campaign=campaign, sample=sample,
                           language=language, previews=previews, launch_form=LaunchForm(),
                           error=error, per_channel=per_channel)


@blueprint.post("/manage/campaigns/<slug>/launch")
@roles_required(*MANAGERS)
def launch(slug: str) -> Response | tuple[str, int]:
    campaign = campaign_or_404(slug)
    form = LaunchForm()
    if not form.validate_on_submit():
        return messages(slug, error=gettext("The date of the end of fieldwork is not valid.")), 400
    try:
        result = launch_campaign(db.session, campaign,
                                 secret_key=current_app.config["SECRET_KEY"],
                                 actor=actor_label(), until=form.until.data,
                                 timezone=current_app.config.get("TIMEZONE", "Europe/Paris"),
                                 window=current_app.config["SMS_WINDOW"])
    except CampaignError as exc:
        db.session.rollback()
        return messages(slug, error=str(exc)), 400
    db.session.commit()
    flash(gettext("Campaign launched: %(count)s messages queued.", count=result.messages),
          "success")
    return redirect(url_for("distribution.status", slug=slug))


@blueprint.post("/manage/campaigns/<slug>/close")
@roles_required(*MANAGERS)
def close(slug: str) -> Response:
    campaign = campaign_or_404(slug)
    if CloseForm().validate_on_submit():
        try:
            cancelled = close_campaign(db.session, campaign, actor=actor_label())
        except CampaignError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(gettext("Fieldwork closed: %(count)s queued messages cancelled.",
                          count=cancelled), "success")
    return redirect(url_for("distribution.status", slug=slug))


@blueprint.get("/manage/campaigns/<slug>/messages/<wording>.<language>.html")
@roles_required(*MANAGERS)
def email_html_preview(slug: str, wording: str, language: str) -> Response:
    campaign = campaign_or_404(slug)
    if wording not in (Wording.INVITATION, Wording.REMINDER, Wording.FINISH) or \
            language not in ("fr", "en"):
        abort(404)
    sample = _sample_invitation(campaign)
    message = Outgoing(0, Channel.EMAIL, "", render(campaign, Channel.EMAIL, wording, language),
                       links_for(sample.token_salt if sample else "0" * 32))
    response = Response(message.html, mimetype="text/html")
    # The email's own inline styles, nothing else: no script, no request anywhere.
    response.headers["Content-Security-Policy"] = EMAIL_PREVIEW_CSP
    return response


def _outbox() -> Path:
    return Path(current_app.config["INSTANCE_PATH"]) / "outbox"


def _other_clients_outbox_files() -> set[str]:
    """The outbox files of other clients' messages: the files are one folder, the walls are
    the messages' (a file no message names, a staff email, stays as before)."""
    client_id = current_client_id()
    if client_id is None:
        return set()
    ids = db.session.scalars(
        select(Message.provider_id).where(Message.client_id != client_id,
                                          Message.provider_id.like("outbox:%")),
        execution_options={ALL_CLIENTS: True})
    return {provider_id.removeprefix("outbox:") for provider_id in ids}


@blueprint.get("/manage/outbox/")
@roles_required(*MANAGERS)
def outbox_index() -> str:
    folder = _outbox()
    hidden = _other_clients_outbox_files()
    files = sorted((p.name for p in folder.iterdir()
                    if OUTBOX_FILE.match(p.name) and p.name not in hidden),
                   reverse=True)[:500] if folder.is_dir() else []
    return render_template("distribution/outbox.html", files=files)


@blueprint.get("/manage/outbox/<name>")
@roles_required(*MANAGERS)
def outbox_file(name: str) -> Response:
    if not OUTBOX_FILE.match(name):  # names the sender writes, nothing else: no traversal
        abort(404)
    if name in _other_clients_outbox_files():
        abort(404)
    response = send_from_directory(_outbox(), name, mimetype="text/plain", max_age=0)
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    return response
