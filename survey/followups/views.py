"""The follow-up pages: the queue, one follow-up, the service levels, the loop's figures and
the export. Thin views: the work is in `survey.followups.operations`."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, get_day_names
from babel.numbers import format_decimal, format_percent
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from survey.auth.roles import MANAGERS, VIEWERS, actor_label, roles_required
from survey.clients.lookup import campaign_or_404, owned_or_404, programme_or_404
from survey.csvsafe import safe_row
from survey.errors import file_download
from survey.extensions import db
from survey.followups import operations as ops
from survey.followups.answers import shown_answers
from survey.followups.figures import follow_ups_table, loop_figures
from survey.followups.forms import (
    AssignForm,
    BulkAssignForm,
    CloseForm,
    NoteForm,
    ReopenForm,
    ServiceLevelForm,
)
from survey.followups.notifications import deliver
from survey.models import Campaign, FollowUp, Programme, utcnow
from survey.reporting.dataset import load_questionnaire

blueprint = Blueprint("followups", __name__, url_prefix="/manage")

EXPORT_COLUMNS = ("id", "campaign", "kind", "status", "score", "score_max", "preferred_channel",
                  "owner", "created_at", "due_at", "assigned_at", "first_contact_at",
                  "contact_attempts", "closed_at", "outcome", "outcome_reference", "on_time")


@blueprint.app_template_filter("local_date")
def local_date(moment: datetime) -> str:
    """A timestamp's day in the centre's time zone, as the reader's language writes it."""
    zone = ZoneInfo(current_app.config.get("TIMEZONE") or "Europe/Paris")
    return format_date(moment.astimezone(zone).date(), "medium", locale=_lang())


@blueprint.app_template_filter("locale_number")
def locale_number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return format_decimal(round(value, digits), format="#,##0." + "0" * digits if digits
                          else "#,##0", locale=_lang())


@blueprint.app_template_filter("locale_percent")
def locale_percent(value: float | None) -> str:
    return "–" if value is None else format_percent(value, format="#,##0.0 %", locale=_lang())


@blueprint.app_template_filter("local_datetime")
def local_datetime(moment: datetime) -> str:
    zone = ZoneInfo(current_app.config.get("TIMEZONE") or "Europe/Paris")
    return format_datetime(moment.astimezone(zone).replace(tzinfo=None), "medium",
                           locale=_lang())


def _lang() -> str:
    return "en" if str(get_locale() or "fr") == "en" else "fr"


def _owner_choices(empty: str) -> list[SelectChoice]:
    return [SelectChoice("", empty)] + [
        SelectChoice(str(user.id), user.email) for user in ops.possible_owners(db.session)
    ]


def _item(follow_up_id: int) -> FollowUp:
    return owned_or_404(FollowUp, follow_up_id)


def _tell_owner() -> None:
    """Send the assignment emails just queued; one that cannot go now stays queued for the
    next delivery (the workers' `staff_notifications` task, or the digest command), and the
    page says nothing of it."""
    try:
        deliver(db.session, current_app.config, limit=50)
    except Exception:  # noqa: BLE001 - a mail relay down must not fail the assignment
        db.session.rollback()
        current_app.logger.exception("follow-up notification not delivered now")


@blueprint.route("/follow-ups")
@roles_required(*MANAGERS)
def queue() -> str:
    filters = ops.QueueFilters.from_args(request.args)
    now = utcnow()
    page = ops.queue_page(db.session, filters, user_id=current_user.id, now=now)
    form = BulkAssignForm()
    form.owner.choices = _owner_choices(_("Nobody"))
    campaigns = db.session.scalars(
        select(Campaign).where(Campaign.id.in_(select(FollowUp.campaign_id).distinct()))
        .order_by(Campaign.year.desc(), Campaign.slug)).all()
    return render_template(
        "followups/queue.html", page=page, filters=filters, form=form, now=now,
        campaigns=campaigns, owners=ops.owner_choices_filter(db.session),
        counts=ops.loop_counts(db.session, now=now),
        mine=ops.loop_counts(db.session, now=now, owner_id=current_user.id),
    )  # fmt: skip


@blueprint.route("/follow-ups/assign", methods=["POST"])
@roles_required(*MANAGERS)
def assign_many() -> WerkzeugResponse:
    """"Assign to me" on one row, or the selected rows to someone (or to nobody)."""
    form = BulkAssignForm()
    form.owner.choices = _owner_choices(_("Nobody"))
    back = url_for(".queue", **request.args.to_dict())
    mine = request.form.get("mine", "")
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return redirect(back, 303)
    if mine.isdigit():
        ids, owner_id = [int(mine)], current_user.id
    else:
        ids = [int(v) for v in request.form.getlist("ids") if v.isdigit()]
        owner = request.form.get("owner", "")
        owner_id = int(owner) if owner.isdigit() else None
        if not ids:
            flash(_("Select at least one follow-up."), "error")
            return redirect(back, 303)
    try:
        changed = ops.bulk_assign(db.session, ids, owner_id, actor=actor_label(),
                                  actor_id=current_user.id)
    except ops.FollowUpError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back, 303)
    db.session.commit()
    _tell_owner()
    flash(_("%(count)d follow-up(s) assigned.", count=changed), "status")
    return redirect(back, 303)


@blueprint.route("/follow-ups/<int:follow_up_id>")
@roles_required(*MANAGERS)
def follow_up(follow_up_id: int) -> str:
    item = _item(follow_up_id)
    return _page(item)


def _page(item: FollowUp, **forms: object) -> str:
    lang = _lang()
    questionnaire = load_questionnaire(item.campaign)
    answers = item.response.answers or {}
    rows = shown_answers(questionnaire, answers, lang)
    # The customer's contact is shown only to call back one who asked for it and consented.
    asked = any(isinstance(v, dict) and v.get("requested") and v.get("consent")
                for v in questionnaire.shown_answers(answers).values())
    customer = item.response.invitation.customer if asked else None
    assign_form = forms.get("assign_form") or AssignForm(owner=str(item.owner_id or ""))
    assign_form.owner.choices = _owner_choices(_("Nobody yet"))
    return render_template(
        "followups/follow_up.html", item=item, rows=rows, customer=customer,
        note_form=forms.get("note_form") or NoteForm(formdata=None),
        assign_form=assign_form, close_form=forms.get("close_form") or CloseForm(formdata=None),
        reopen_form=ReopenForm(), overdue=ops.is_overdue(item), now=utcnow(),
    )  # fmt: skip


def _act(item: FollowUp, action, message: str) -> WerkzeugResponse | None:  # noqa: ANN001
    try:
        action()
    except ops.FollowUpError as error:
        db.session.rollback()
        flash(str(error), "error")
        return None
    db.session.commit()
    flash(message, "status")
    return redirect(url_for(".follow_up", follow_up_id=item.id), 303)


@blueprint.route("/follow-ups/<int:follow_up_id>/note", methods=["POST"])
@roles_required(*MANAGERS)
def add_note(follow_up_id: int) -> str | WerkzeugResponse:
    item = _item(follow_up_id)
    form = NoteForm()
    if form.validate_on_submit():
        done = _act(item, lambda: ops.add_note(
            db.session, item, form.body.data, contact_attempt=form.contact_attempt.data,
            actor=actor_label(), actor_id=current_user.id), _("Note added."))
        if done:
            return done
    return _page(item, note_form=form)


@blueprint.route("/follow-ups/<int:follow_up_id>/assign", methods=["POST"])
@roles_required(*MANAGERS)
def assign(follow_up_id: int) -> str | WerkzeugResponse:
    item = _item(follow_up_id)
    form = AssignForm()
    form.owner.choices = _owner_choices(_("Nobody yet"))
    if form.validate_on_submit():
        owner_id = int(form.owner.data) if form.owner.data else None
        done = _act(item, lambda: ops.assign(db.session, item, owner_id, actor=actor_label(),
                                             actor_id=current_user.id), _("Owner saved."))
        if done:
            _tell_owner()
            return done
    return _page(item, assign_form=form)


@blueprint.route("/follow-ups/<int:follow_up_id>/close", methods=["POST"])
@roles_required(*MANAGERS)
def close(follow_up_id: int) -> str | WerkzeugResponse:
    item = _item(follow_up_id)
    form = CloseForm()
    if form.validate_on_submit():
        done = _act(item, lambda: ops.close(
            db.session, item, form.outcome.data, reference=form.reference.data,
            actor=actor_label(), actor_id=current_user.id), _("Follow-up closed."))
        if done:
            return done
    return _page(item, close_form=form)


@blueprint.route("/follow-ups/<int:follow_up_id>/reopen", methods=["POST"])
@roles_required(*MANAGERS)
def reopen(follow_up_id: int) -> str | WerkzeugResponse:
    item = _item(follow_up_id)
    if ReopenForm().validate_on_submit():
        done = _act(item, lambda: ops.reopen(db.session, item, actor=actor_label(),
                                             actor_id=current_user.id), _("Follow-up reopened."))
        if done:
            return done
    return _page(item)


@blueprint.route("/campaigns/<slug>/follow-ups")
@roles_required(*MANAGERS)
def campaign_follow_ups(slug: str) -> WerkzeugResponse:
    """Where the campaign's follow-ups used to be: the queue, filtered on the campaign (another
    client's campaign is 404 here too: a redirect would confirm nothing, but the rule is one)."""
    campaign_or_404(slug)
    return redirect(url_for(".queue", campaign=slug, state="all"))


@blueprint.route("/campaigns/<slug>/follow-ups/<int:follow_up_id>")
@roles_required(*MANAGERS)
def campaign_follow_up(slug: str, follow_up_id: int) -> WerkzeugResponse:
    campaign_or_404(slug)
    owned_or_404(FollowUp, follow_up_id)
    return redirect(url_for(".follow_up", follow_up_id=follow_up_id))


@blueprint.route("/follow-ups.csv")
@roles_required(*MANAGERS)
@file_download
def export() -> Response:
    """The queue as filtered, every page, as CSV: the handling of each follow-up, without the
    customers' answers or contact details."""
    filters = ops.QueueFilters.from_args(request.args)
    now = utcnow()
    query = ops.filtered_query(filters, user_id=current_user.id, now=now)
    items = db.session.scalars(query.order_by(*ops.ordering(filters.sort))).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)

    def stamp(moment: datetime | None) -> str:
        return moment.isoformat(timespec="seconds") if moment else ""

    for item in items:
        on_time = "" if item.status != "closed" or item.due_at is None else int(
            item.closed_at <= item.due_at)
        writer.writerow(safe_row([  # the reference and owner are typed text
            item.id, item.campaign.slug, item.kind, item.status, item.score, item.score_max,
            item.preferred_channel or "", item.owner.email if item.owner else "",
            stamp(item.created_at), stamp(item.due_at), stamp(item.assigned_at),
            stamp(item.first_contact_at), item.contact_attempts, stamp(item.closed_at),
            item.outcome or "", item.outcome_reference or "", on_time,
        ]))
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=follow-ups-{now:%Y%m%d}.csv",
        "Cache-Control": "private, no-store"})


@blueprint.route("/follow-ups/figures")
@roles_required(*VIEWERS)
def figures() -> str:
    """The loop's figures per campaign, in aggregate (auditors see no follow-up itself)."""
    now = utcnow()
    campaigns = db.session.scalars(
        select(Campaign).order_by(Campaign.year.desc(), Campaign.slug)).all()
    rows = [(campaign, loop_figures(follow_ups_table(db.session, campaign.id), now=now))
            for campaign in campaigns]
    return render_template("followups/figures.html", rows=rows, now=now)


@blueprint.route("/follow-ups/service-levels", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def service_levels() -> str | WerkzeugResponse:
    programmes = db.session.scalars(select(Programme).order_by(Programme.name)).all()
    forms = {p.id: ServiceLevelForm(prefix=f"p{p.id}", callback_days=p.callback_days,
                                    detractor_days=p.detractor_days) for p in programmes}
    chosen = request.form.get("programme", "")
    if request.method == "POST" and chosen.isdigit() and int(chosen) in forms:
        programme = programme_or_404(chosen)
        form = forms[programme.id]
        if form.validate_on_submit():
            try:
                ops.set_service_levels(db.session, programme,
                                       callback_days=form.callback_days.data,
                                       detractor_days=form.detractor_days.data,
                                       actor=actor_label(), actor_id=current_user.id)
            except ops.FollowUpError as error:
                db.session.rollback()
                flash(str(error), "error")
            else:
                db.session.commit()
                flash(_("Service levels saved."), "status")
                return redirect(url_for(".service_levels"), 303)
    return render_template("followups/service_levels.html", programmes=programmes, forms=forms,
                           calendar=_calendar_words(ops.Calendar.from_config(current_app.config)))


def _calendar_words(calendar: ops.Calendar) -> str:
    """The working days in the reader's words ("lundi, mardi, …; jours fériés exclus")."""
    names = get_day_names("wide", locale=_lang())
    days = ", ".join(names[day] for day in sorted(calendar.window.days))
    if calendar.window.holiday_country is None:
        return days
    return _("%(days)s; public holidays (%(region)s) excluded", days=days,
             region=calendar.window.holiday_region())
