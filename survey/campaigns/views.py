"""Managers' campaign pages: the list, creation, and each campaign's journey."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from questionnaires import get_bundled
from questionnaires.forms import build_page_form_class
from survey.auth.roles import MANAGERS, VIEWERS, actor_label, may_open, roles_required
from survey.campaigns.forms import CampaignForm, ReminderForm, reminder_problem
from survey.campaigns.lifecycle import campaign_steps, next_step
from survey.campaigns.operations import (
    CampaignError,
    ReminderDaysError,
    create_campaign,
    get_campaign,
    set_reminder_days,
)
from survey.extensions import db
from survey.models import Campaign, Disposition, Invitation, Programme

blueprint = Blueprint("campaigns", __name__, url_prefix="/manage")

# Pages of other parts of the application that a campaign links to, by step.
STEP_ENDPOINTS = {
    "plan": "frame.plan",
    "draw": "frame.plan",
    "launch": "distribution.messages",
    "fieldwork": "distribution.status",
    "close": "distribution.status",
    "report": "reporting.reports",
}


def step_url(step: str, slug: str) -> str | None:
    """The page of a step, when the signed-in person's role opens it."""
    if step not in STEP_ENDPOINTS or not may_open(STEP_ENDPOINTS[step]):
        return None
    try:
        return url_for(STEP_ENDPOINTS[step], slug=slug)
    except (BuildError, KeyError):
        return None


@blueprint.app_context_processor
def campaign_helpers() -> dict[str, object]:
    return {"step_url": step_url}


@blueprint.route("/campaigns", methods=["GET", "POST"])
@roles_required(*VIEWERS)
def index() -> str | Response:
    form = CampaignForm()
    from survey.editor.operations import campaign_choices

    form.questionnaire.choices = [SelectChoice(choice.reference, choice.label)
                                  for choice in campaign_choices(db.session)]
    if form.year.data is None:
        form.year.data = date.today().year
    if form.validate_on_submit():
        from flask_login import current_user

        if current_user.role not in MANAGERS:
            abort(403)
        try:
            campaign = create_campaign(
                db.session, form.slug.data or "", programme=form.programme.data or "",
                year=form.year.data or 0, questionnaire_key=form.questionnaire.data or "",
                channels=form.channels.data or [], actor=actor_label(),
            )
        except CampaignError as exc:
            db.session.rollback()
            form.slug.errors = [*form.slug.errors, str(exc)]
        else:
            db.session.commit()
            flash(_("Campaign %(slug)s created.", slug=campaign.slug), "status")
            return redirect(url_for(".campaign", slug=campaign.slug))
    campaigns = db.session.scalars(
        select(Campaign).order_by(Campaign.year.desc(), Campaign.slug)
    ).all()
    programmes = db.session.scalars(select(Programme.name).order_by(Programme.name)).all()
    return render_template("campaigns/index.html", form=form, campaigns=campaigns,
                           programmes=programmes)


@blueprint.route("/campaigns/<slug>")
@roles_required(*VIEWERS)
def campaign(slug: str) -> str:
    found = _found(slug)
    form = ReminderForm()
    form.days.data = ", ".join(str(day) for day in found.reminder_days or [])
    return _campaign_page(found, form)


@blueprint.route("/campaigns/<slug>/reminders", methods=["POST"])
@roles_required(*MANAGERS)
def reminders(slug: str) -> Response | tuple[str, int]:
    """Change the campaign's reminder days; the workers' scheduler uses them from its next
    run."""
    found = _found(slug)
    form = ReminderForm()
    if form.validate_on_submit():
        try:
            days = set_reminder_days(db.session, found, form.days.data or "",
                                     actor=actor_label(), actor_id=current_user.id)
        except ReminderDaysError as error:
            db.session.rollback()
            form.days.errors = [*form.days.errors, reminder_problem(error)]
        else:
            db.session.commit()
            flash(_("Reminders saved: %(days)s.", days=", ".join(map(str, days)))
                  if days else _("Reminders saved: none will be sent."), "status")
            return redirect(url_for(".campaign", slug=slug), 303)
    return _campaign_page(found, form), 422


def _found(slug: str) -> Campaign:
    try:
        return get_campaign(db.session, slug)
    except CampaignError:
        abort(404)


def _campaign_page(found: Campaign, reminder_form: ReminderForm) -> str:
    steps = campaign_steps(found)
    following = next_step(found)
    counts = dict(db.session.execute(
        select(Invitation.disposition, func.count())
        .where(Invitation.campaign_id == found.id, Invitation.is_test.is_(False))
        .group_by(Invitation.disposition)
    ).all())
    return render_template("campaigns/campaign.html", campaign=found, steps=steps,
                           next=following, journey=journey(found, steps, following),
                           invited=sum(counts.values()),
                           complete=counts.get(Disposition.COMPLETE.value, 0),
                           reminder_form=reminder_form)


def journey(campaign: Campaign, steps: list, following: object) -> list[dict[str, object]]:
    """The stepper's steps: the customer base (shared by every campaign), then the campaign's
    own, each done, current (the next step), possible now, or not yet possible and why."""
    before_draw = campaign.status in ("draft", "sampled")
    items: list[dict[str, object]] = [{
        "title": _("Import or update the customer base"),
        "url": url_for("frame.customers") if may_open("frame.customers") else None,
        "state": "allowed" if before_draw else "done",
        "note": _("possible now") if before_draw else _("done"),
    }]
    for step in steps:
        if step.done:
            state, note = "done", _("done")
        elif step == following:
            state, note = "current", _("Next step")
        elif step.allowed:
            state, note = "allowed", _("possible now")
        else:
            reason = _(step.reason) if step.reason else ""
            state, note = "blocked", _("not now: %(reason)s", reason=reason)
        items.append({"title": step.label, "url": step_url(step.key, campaign.slug),
                      "state": state, "note": note})
    return items


@blueprint.route("/questionnaires/<key>")
@roles_required(*VIEWERS)
def questionnaire_preview(key: str) -> str:
    """Every page of a bundled questionnaire in both languages, as respondents will see it."""
    from questionnaires import UnknownQuestionnaire

    try:
        questionnaire = get_bundled(key)
    except UnknownQuestionnaire:
        abort(404)
    languages = list(questionnaire.languages)
    pages = [
        {lang: build_page_form_class(questionnaire, index, lang)(prefix=f"{lang}-p{index}")
         for lang in languages}
        for index in range(len(questionnaire.pages))
    ]
    current_app.logger.debug("preview of %s", key)
    return render_template("campaigns/questionnaire.html", questionnaire=questionnaire,
                           languages=languages, pages=pages)
