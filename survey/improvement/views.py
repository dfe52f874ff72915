"""The improvement plan's pages: the list of actions (filters, CSV), recording an action (from
the list, a campaign's reports or a row of its drivers grid), an action with its history, its
changes and its status. Managers write; auditors read. Thin views: the work is in
`survey.improvement.operations`."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms.fields.choices import SelectChoice

from analysis import AnalysisInputError
from survey import formatting, labels
from survey.auth.roles import MANAGERS, READERS, actor_label, roles_required
from survey.clients.lookup import owned_or_404
from survey.extensions import db
from survey.improvement import operations as ops
from survey.improvement import pack as _pack  # noqa: F401 - registers the pack section
from survey.improvement.forms import ActionForm, StatusForm
from survey.models import ActionStatus, Campaign, CampaignStatus, ImprovementAction
from survey.reporting.builder import drivers_of
from survey.reporting.dataset import DatasetError, build_dataset

blueprint = Blueprint("improvement", __name__, url_prefix="/manage")

def _lang() -> str:
    return "en" if str(get_locale() or "fr") == "en" else "fr"


def _action(action_id: int) -> ImprovementAction:
    return owned_or_404(ImprovementAction, action_id)


def _campaigns() -> list[Campaign]:
    return list(db.session.scalars(select(Campaign).order_by(Campaign.year.desc(),
                                                             Campaign.slug)))


def _default_campaign() -> Campaign | None:
    """The campaign an action most likely comes from: the newest with its fieldwork closed,
    else the newest."""
    campaigns = _campaigns()
    closed = [c for c in campaigns if c.status in (CampaignStatus.CLOSED.value,
                                                   CampaignStatus.ARCHIVED.value)]
    return (closed or campaigns or [None])[0]


def indicator_label(indicator: ops.Indicator, items: dict[str, str]) -> str:
    question = items.get(indicator.item or "", indicator.item or "")
    if indicator.kind == "proportion":
        return _("%(question)s — share of satisfied customers (%%)", question=question)
    if indicator.kind == "mean":
        return _("%(question)s — mean score", question=question)
    if indicator.kind == "nps":
        return _("Net Promoter Score")
    return _("Satisfaction index")


def _form_choices(form: ActionForm, campaign: Campaign) -> dict[str, ops.Indicator]:
    items = ops.campaign_items(campaign, _lang())
    indicators = ops.campaign_indicators(campaign)
    form.item.choices = [SelectChoice("", _("None: a commitment written below"))] + [
        SelectChoice(code, text) for code, text in items.items()]
    form.indicator.choices = [SelectChoice("", _("None"))] + [
        SelectChoice(name, indicator_label(indicator, items))
        for name, indicator in indicators.items()]
    form.owner.choices = [SelectChoice("", _("Choose"))] + [
        SelectChoice(str(user.id), user.email) for user in ops.possible_owners(db.session)]
    return indicators


def _values(form: ActionForm, indicators: dict[str, ops.Indicator]) -> dict[str, Any]:
    indicator = form.indicator.data or None
    target = form.target.data
    if indicator in indicators and target is not None:
        target = ops.target_from_display(indicators[indicator].kind, target)
    return {"title": form.title.data, "item": form.item.data or None,
            "commitment": form.commitment.data, "change": form.change.data,
            "owner_id": form.owner.data, "due_on": form.due_on.data, "indicator": indicator,
            "target": target, "public": form.public.data}


def _show_error(form: ActionForm, error: ops.ActionError) -> None:
    field, _sep, message = str(error).partition(": ")
    target = {"owner_id": form.owner}.get(field) or getattr(form, field, None) or form.title
    target.errors = [*target.errors, message or str(error)]


@blueprint.route("/actions")
@roles_required(*READERS)
def index() -> str:
    filters = ops.ActionFilters.from_args(request.args)
    today = date.today()
    actions = db.session.scalars(
        ops.filtered_query(filters, user_id=current_user.id, today=today)).unique().all()
    return render_template(
        "improvement/index.html", actions=actions, filters=filters, today=today,
        campaigns=_campaigns(), owners=ops.possible_owners(db.session),
        statuses=list(ActionStatus), default_campaign=_default_campaign(),
    )  # fmt: skip


@blueprint.route("/actions.csv")
@roles_required(*READERS)
def export() -> Response:
    """The actions as filtered, as CSV (texts that a spreadsheet would run are quoted)."""
    filters = ops.ActionFilters.from_args(request.args)
    today = date.today()
    actions = db.session.scalars(
        ops.filtered_query(filters, user_id=current_user.id, today=today)).unique().all()
    return Response(ops.plan_csv(actions, today), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=improvement-plan-{today:%Y%m%d}.csv",
        "Cache-Control": "private, no-store"})


@blueprint.route("/actions/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def create() -> str | WerkzeugResponse | tuple[str, int]:
    """Record an action decided from a campaign's results (`?campaign=SLUG`, the newest closed
    campaign otherwise); `?item=CODE` prefills the item and its satisfied share."""
    slug = request.args.get("campaign", "")
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug)) if slug \
        else _default_campaign()
    if campaign is None:
        if slug:
            abort(404)
        flash(_("Create a campaign first: an action follows from a campaign's results."),
              "error")
        return redirect(url_for(".index"), 303)
    form = ActionForm()
    indicators = _form_choices(form, campaign)
    if request.method == "GET":
        item = request.args.get("item", "")
        if any(choice.value == item for choice in form.item.choices):
            form.item.data = item
            for name in (f"{item}_satisfied", f"{item}_mean"):
                if name in indicators:
                    form.indicator.data = name
                    break
        form.owner.data = str(current_user.id)
    elif form.validate_on_submit():
        try:
            action = ops.create_action(db.session, campaign, _values(form, indicators),
                                       actor=actor_label(), actor_id=current_user.id)
        except ops.ActionError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.session.commit()
            flash(_("Action recorded."), "ok")
            return redirect(url_for(".action", action_id=action.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("improvement/form.html", form=form, campaign=campaign, action=None,
                           campaigns=_campaigns()), status


@blueprint.route("/actions/<int:action_id>")
@roles_required(*READERS)
def action(action_id: int) -> str:
    item = _action(action_id)
    return _detail(item)


def _status_form(action: ImprovementAction, form: StatusForm | None = None) -> StatusForm:
    form = form or StatusForm(formdata=None)
    form.status.choices = [SelectChoice(s.value, labels.label(s)) for s in ActionStatus
                           if s.value != action.status]
    return form


def _detail(action: ImprovementAction, status_form: StatusForm | None = None,
            status: int = 200) -> Any:
    campaign = action.campaign
    lang = _lang()
    items = ops.campaign_items(campaign, lang)
    indicators = ops.campaign_indicators(campaign)
    indicator = indicators.get(action.indicator or "")
    owners = {user.id: user.email for user in ops.possible_owners(db.session)}

    def history_value(name: str, value: Any) -> str:
        """A field's value as the history shows it: labels, dates and numbers of the reader's
        language, the owner's account."""
        if value is None or value == "":
            return "–"
        if name == "owner_id":
            return owners.get(value) or str(value)
        if name == "status":
            return labels.label(value, "ActionStatus")
        if name == "public":
            return _("yes") if value else _("no")
        if name == "due_on":
            return formatting.format_date(value)
        if name == "item":
            return items.get(value, value)
        if name == "target":
            kind = indicators[action.indicator].kind if action.indicator in indicators else ""
            shown = ops.target_for_display(kind, value)
            return formatting.number(shown, 1) + (" %" if kind == "proportion" else "")
        if name == "indicator" and value in indicators:
            return indicator_label(indicators[value], items)
        return str(value)

    return render_template(
        "improvement/action.html", action=action, campaign=campaign, items=items,
        history_value=history_value,
        indicator=indicator,
        indicator_text=indicator_label(indicator, items) if indicator else action.indicator,
        target=ops.target_for_display(indicator.kind, action.target) if indicator else None,
        overdue=ops.is_overdue(action), status_form=_status_form(action, status_form),
        field_labels=FIELD_LABELS,
    ), status  # fmt: skip


# How the history names each field (the detail page shows it; codes stay in the CSV).
FIELD_LABELS = {
    "title": _l("Action"), "item": _l("Questionnaire item"), "commitment": _l("Commitment"),
    "change": _l("What will change"), "owner_id": _l("Owner"), "due_on": _l("Due date"),
    "indicator": _l("Indicator"), "target": _l("Target"),
    "public": _l("Shown on the published results"), "status": _l("Status"),
}


@blueprint.route("/actions/<int:action_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit(action_id: int) -> str | WerkzeugResponse | tuple[str, int]:
    item = _action(action_id)
    campaign = item.campaign
    if request.method == "GET":
        form = ActionForm(formdata=None, obj=item)
        form.owner.data = str(item.owner_id)
        form.item.data = item.item or ""
        form.indicator.data = item.indicator or ""
    else:
        form = ActionForm()
    indicators = _form_choices(form, campaign)
    if request.method == "GET" and item.indicator in indicators:
        form.target.data = ops.target_for_display(indicators[item.indicator].kind, item.target)
    if request.method == "POST" and form.validate_on_submit():
        try:
            changed = ops.edit_action(db.session, item, _values(form, indicators),
                                      actor=actor_label(), actor_id=current_user.id)
        except ops.ActionError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.session.commit()
            flash(_("Action saved.") if changed else _("Nothing changed."), "ok")
            return redirect(url_for(".action", action_id=item.id), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("improvement/form.html", form=form, campaign=campaign, action=item,
                           campaigns=None), status


@blueprint.route("/actions/<int:action_id>/status", methods=["POST"])
@roles_required(*MANAGERS)
def change_status(action_id: int) -> Any:
    item = _action(action_id)
    form = _status_form(item, StatusForm())
    if form.validate_on_submit():
        try:
            ops.change_status(db.session, item, form.status.data, note=form.note.data,
                              actor=actor_label(), actor_id=current_user.id)
        except ops.ActionError as error:
            db.session.rollback()
            field, _sep, message = str(error).partition(": ")
            target = form.note if field == "note" else form.status
            target.errors = [*target.errors, message or str(error)]
        else:
            db.session.commit()
            flash(_("Status changed: %(status)s.", status=labels.label(item.status,
                                                                        "ActionStatus")), "ok")
            return redirect(url_for(".action", action_id=item.id), 303)
    return _detail(item, form, 422)


@blueprint.route("/campaigns/<slug>/improvement")
@roles_required(*READERS)
def campaign_plan(slug: str) -> str:
    """A campaign's key drivers, each row with a link to record an action on its item, and the
    actions decided from its results."""
    campaign = db.session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None:
        abort(404)
    lang = _lang()
    drivers, problem = None, None
    try:
        drivers = drivers_of(build_dataset(db.session, campaign))
    except (DatasetError, AnalysisInputError) as error:
        problem = str(error)
    if drivers and "error" in drivers:
        drivers, problem = None, drivers["error"]
    return render_template(
        "improvement/campaign.html", campaign=campaign, drivers=drivers, problem=problem,
        items=ops.campaign_items(campaign, lang),
        actions=ops.actions_of(db.session, [campaign.id]), today=date.today(),
    )  # fmt: skip
