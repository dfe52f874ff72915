"""Managers' pages for the customer base, the plan and the draw; auditors may read the plan."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from survey.auth.roles import MANAGERS, READERS, actor_label, roles_required
from survey.clients.lookup import campaign_or_404
from survey.extensions import db
from survey.frame.forms import DrawForm, ImportForm, PlanForm
from survey.frame.importing import (
    CustomerFileError,
    UndeclaredColumnsError,
    check_customer_file,
    customer_count,
    last_import,
    preview_columns,
)
from survey.frame.problems import problem_text
from survey.frame.sampling import SamplingError, draw_sample, known_variables, plan_campaign
from survey.jobs.operations import JobError, active_jobs, queue_job
from survey.models import JobKind
from survey.weighting.operations import CalibrationError, parse_calibrate

blueprint = Blueprint("frame", __name__, url_prefix="/manage")

#: Largest customer file accepted through the web page (the command line has no limit).
MAX_UPLOAD_BYTES = 60 * 1024 * 1024
REJECTS_SHOWN = 1000


@blueprint.route("/customers", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def customers() -> str | Response:
    """The import form; a valid file is imported in the background, followed on its job's page."""
    form = ImportForm()
    preview = None
    if form.validate_on_submit():
        upload = form.file.data
        # Processed in memory: the upload is never written under a name the user chose.
        data = upload.read(MAX_UPLOAD_BYTES + 1)
        filename = upload.filename or "upload"
        if len(data) > MAX_UPLOAD_BYTES:
            form.file.errors.append(
                _("The file is larger than %(size)d MB: import it with the command line.",
                  size=MAX_UPLOAD_BYTES // (1024 * 1024))
            )
        else:
            variables = [h.strip() for h in (form.variables.data or "").split(",") if h.strip()]
            try:
                check_customer_file(data, filename, session=db.session, variables=variables,
                                    ignore_others=form.ignore_others.data)
                job = queue_job(
                    db.session, JobKind.CUSTOMER_IMPORT, actor=actor_label(),
                    user_id=current_user.id, exclusive=True, payload=data,
                    parameters={"dry_run": form.dry_run.data,
                                "accept_rejects": form.accept_rejects.data,
                                "variables": variables,
                                "ignore_others": form.ignore_others.data,
                                "_filename": filename, "_actor": actor_label()},
                )  # fmt: skip
            except UndeclaredColumnsError as exc:
                db.session.rollback()
                preview = preview_columns(db.session, data, filename, variables=variables)
                form.file.errors.append(
                    _("These columns are not declared: %(columns)s. Name the survey variables "
                      "to keep, or tick 'Ignore every other column'. A column that is not "
                      "declared is never stored.", columns=", ".join(exc.columns))
                )
            except CustomerFileError as exc:
                db.session.rollback()
                form.file.errors.append(str(exc))
            except JobError:
                db.session.rollback()
                form.file.errors.append(_("Another import is in progress: wait for it to "
                                          "finish, then import this file."))
            else:
                db.session.commit()
                return redirect(url_for("jobs.job", job_id=job.id), 303)
    return render_template(
        "frame/customers.html",
        form=form,
        last=last_import(db.session),
        count=customer_count(db.session),
        rejects_shown=REJECTS_SHOWN,
        preview=preview,
        running=active_jobs(db.session, JobKind.CUSTOMER_IMPORT),
    )


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _prior_sd(form: PlanForm) -> dict[str, float] | None:
    values: dict[str, float] = {}
    for line in _lines(form.prior_sd.data):
        stratum, equals, value = line.rpartition("=")
        try:
            values[stratum.strip()] = float(value)
        except ValueError:
            equals = ""
        if not equals:
            form.prior_sd.errors.append(_("Write one stratum=value per line, e.g. pro=0.4."))
            return None
    return values or None


def _points(fraction: float) -> float:
    """A fraction as percentage points for the form (0.03 → 3.0, not 3.0000000000000004)."""
    return round(fraction * 100, 6)


def _fill_from_plan(form: PlanForm, plan: dict[str, Any]) -> None:
    form.strata.data = list(plan["strata_variables"])
    form.margin.data = _points(plan["margin"])
    form.confidence.data = str(plan["confidence"])
    form.response_rate.data = _points(plan["response_rate"])
    form.allocation.data = plan["allocation"]
    form.min_per_stratum.data = plan["min_per_stratum"]
    form.recent_months.data = plan["recent_months"]
    form.excluded.data = "\n".join(plan["excluded_external_ids"])
    form.prior_sd.data = "\n".join(f"{k}={v}" for k, v in (plan.get("prior_sd") or {}).items())
    calibration = plan.get("calibration")
    form.calibration_method.data = calibration["method"] if calibration else "none"
    form.calibration_variables.data = list(calibration["variables"]) if calibration else []


@blueprint.route("/campaigns/<slug>/plan", methods=["GET"])
@roles_required(*READERS)
def plan(slug: str) -> str:
    return _plan_page(slug, PlanForm(), DrawForm())


@blueprint.route("/campaigns/<slug>/plan", methods=["POST"])
@roles_required(*MANAGERS)
def save_plan(slug: str) -> str | Response:
    form = PlanForm()
    campaign = campaign_or_404(slug)
    form.set_columns(known_variables(db.session))
    if form.validate_on_submit():
        prior_sd = _prior_sd(form)
        calibration = _calibration_choice(form)
        if not form.prior_sd.errors and not form.calibration_variables.errors:
            try:
                plan_campaign(
                    db.session,
                    campaign,
                    strata_variables=form.strata.data or [],
                    margin=form.margin.data / 100,
                    confidence=float(form.confidence.data),
                    response_rate=form.response_rate.data / 100,
                    allocation=form.allocation.data,
                    min_per_stratum=form.min_per_stratum.data,
                    prior_sd=prior_sd,
                    recent_months=form.recent_months.data,
                    excluded_external_ids=_lines(form.excluded.data),
                    calibration=calibration,
                    secret_key=current_app.config["SECRET_KEY"],
                    actor=actor_label(),
                    actor_id=current_user.id,
                )
            except SamplingError as exc:
                db.session.rollback()
                form.form_errors.append(problem_text(exc))
            else:
                db.session.commit()
                flash(_("Plan saved. Check the expected precision, then draw."), "success")
                return redirect(url_for("frame.plan", slug=slug))
    return _plan_page(slug, form, DrawForm(), status=422)


def _calibration_choice(form: PlanForm) -> tuple[str, list[str]] | None:
    """The form's weighting as (method, variables), or None; an error on the field if wrong."""
    method = form.calibration_method.data
    if method == "none":
        return None
    try:
        return parse_calibrate(f"{method}:{','.join(form.calibration_variables.data or [])}")
    except CalibrationError:
        if method == "poststratify":
            message = _("Post-stratification takes exactly one variable: tick one.")
        else:
            message = _("Tick the variables to weight on.")
        form.calibration_variables.errors = [*form.calibration_variables.errors, message]
        return None


@blueprint.route("/campaigns/<slug>/draw", methods=["POST"])
@roles_required(*MANAGERS)
def draw(slug: str) -> str | Response:
    form = DrawForm()
    campaign = campaign_or_404(slug)
    if form.validate_on_submit():
        try:
            result = draw_sample(
                db.session,
                campaign,
                form.seed.data,
                secret_key=current_app.config["SECRET_KEY"],
                actor=actor_label(),
                actor_id=current_user.id,
            )
        except SamplingError as exc:
            db.session.rollback()
            form.seed.errors.append(problem_text(exc))
        else:
            db.session.commit()
            flash(_("Sample drawn: %(size)d customers from a frame of %(frame)d.",
                    size=result.sample_size, frame=result.frame_size), "success")
            if result.taken_whole:
                flash(_("Strata taken whole: %(strata)s.", strata=", ".join(result.taken_whole)),
                      "info")
            return redirect(url_for("frame.plan", slug=slug))
    return _plan_page(slug, PlanForm(formdata=None), form, status=422, prefill=True)




def _plan_page(
    slug: str, form: PlanForm, draw_form: DrawForm, status: int = 200, prefill: bool = False
):
    campaign = campaign_or_404(slug)
    if (prefill or request.method == "GET") and campaign.plan:
        _fill_from_plan(form, campaign.plan)
    variables = known_variables(db.session)
    plan = campaign.plan or {}
    form.set_columns(variables, kept=[*plan.get("strata_variables", ()),
                                      *(plan.get("calibration") or {}).get("variables", ())])
    can_manage = current_user.role in MANAGERS
    page = render_template(
        "frame/plan.html",
        campaign=campaign,
        plan=campaign.plan,
        form=form,
        draw_form=draw_form,
        can_manage=can_manage,
        variables=variables,
        drawn=campaign.drawn_at is not None,
    )
    return page if status == 200 else (page, status)
