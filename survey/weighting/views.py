"""The weighting page: the calibration in force, the margins stored at the draw, a preview of
what another choice would do to the weights and the headline estimates, and saving it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from survey.auth.roles import MANAGERS, READERS, actor_label, roles_required
from survey.clients.lookup import campaign_or_404
from survey.extensions import db
from survey.frame.problems import problem_text
from survey.models import CampaignStatus
from survey.weighting.forms import WeightingForm
from survey.weighting.operations import (
    CalibrationError,
    choose_calibration,
    parse_calibrate,
    preview_calibration,
)

blueprint = Blueprint("weighting", __name__, url_prefix="/manage")


@blueprint.app_template_global("number")
def number(value: float | None, digits: int = 0) -> str:
    """A number in the page's locale (decimal comma and narrow spaces in French)."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern)


def _campaign(slug: str):
    return campaign_or_404(slug)


def _form(campaign: Any, formdata: Any = None, **kwargs: Any) -> WeightingForm:
    """The form, its variables the columns whose margins were counted at the draw (and those
    of the weighting in force, so that they show ticked)."""
    form = WeightingForm(formdata, **kwargs) if formdata is not None else WeightingForm(**kwargs)
    chosen = ((campaign.plan or {}).get("calibration") or {}).get("variables") or []
    form.set_columns([*(campaign.frame_margins or {}), *chosen])
    return form


def _choice(form: WeightingForm) -> tuple[str, list[str]] | None:
    if form.method.data == "none":
        return None
    try:
        return parse_calibrate(f"{form.method.data}:{','.join(form.variables.data or [])}")
    except CalibrationError:
        message = (
            _("Post-stratification takes exactly one variable: tick one.")
            if form.method.data == "poststratify"
            else _("Tick the variables to weight on.")
        )
        form.variables.errors = [*form.variables.errors, message]
        raise


def _refused(form: WeightingForm, error: CalibrationError) -> None:
    if not form.variables.errors and not form.method.errors:
        form.variables.errors = [*form.variables.errors, problem_text(error)]


@blueprint.route("/campaigns/<slug>/weighting", methods=["GET"])
@roles_required(*READERS)
def weighting(slug: str) -> str | tuple[str, int]:
    campaign = _campaign(slug)
    form = _form(campaign, request.args, meta={"csrf": False})
    preview: dict[str, Any] | None = None
    status = 200
    if "method" in request.args:
        try:
            if not form.validate():
                raise CalibrationError("refused by the form", "calibration_refused")
            preview = preview_calibration(db.session, campaign, _choice(form))
        except CalibrationError as exc:
            _refused(form, exc)
            status = 422
    else:
        chosen = (campaign.plan or {}).get("calibration")
        form.method.data = chosen["method"] if chosen else "none"
        form.variables.data = list(chosen["variables"]) if chosen else []
    page = render_template(
        "weighting/weighting.html",
        campaign=campaign,
        plan=campaign.plan,
        form=form,
        save_form=WeightingForm(formdata=None, data=form.data),
        preview=preview,
        can_manage=current_user.role in MANAGERS
        and campaign.status != CampaignStatus.ARCHIVED.value
        and campaign.frame_margins is not None,
    )
    return page if status == 200 else (page, status)


@blueprint.route("/campaigns/<slug>/weighting", methods=["POST"])
@roles_required(*MANAGERS)
def save_weighting(slug: str) -> str | Response | tuple[str, int]:
    campaign = _campaign(slug)
    form = _form(campaign)
    if form.validate_on_submit():
        try:
            choose_calibration(
                db.session, campaign, _choice(form), actor=actor_label(),
                actor_id=current_user.id,
            )  # fmt: skip
        except CalibrationError as exc:
            db.session.rollback()
            _refused(form, exc)
        else:
            db.session.commit()
            flash(_("Weighting saved: the report, the dashboard and the export use it."), "success")
            return redirect(url_for("weighting.weighting", slug=slug))
    page = render_template(
        "weighting/weighting.html", campaign=campaign, plan=campaign.plan, form=form,
        save_form=form, preview=None, can_manage=True,
    )  # fmt: skip
    return page, 422
