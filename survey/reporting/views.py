"""Managers' report pages: generated reports, the fieldwork dashboard, exports."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from survey.auth.roles import MANAGERS, READERS, actor_label, roles_required
from survey.campaigns.operations import CampaignError, get_campaign
from survey.extensions import db
from survey.jobs.operations import active_jobs, queue_job
from survey.jobs.runner import runner_for
from survey.jobs.tasks import report_work
from survey.models import Campaign, JobKind, Report
from survey.reporting.exports import EXPORT_FORMATS
from survey.reporting.fieldwork import fieldwork_dashboard
from survey.reporting.operations import (
    ReportError,
    export_campaign,
    stored_report_path,
)

blueprint = Blueprint("reporting", __name__, url_prefix="/manage/campaigns/<slug>")

# A stored report carries Plotly inline: it is served on its own, sandboxed, with a policy that
# allows its inline script and style and nothing from anywhere else.
STORED_REPORT_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; frame-ancestors 'self'; base-uri 'none'; "
    "form-action 'none'; sandbox allow-scripts"
)


class GenerateForm(FlaskForm):
    lang = SelectField(
        _l("Language"), choices=[SelectChoice("fr", "Français"), SelectChoice("en", "English")]
    )


def _campaign(slug: str) -> Campaign:
    try:
        return get_campaign(db.session, slug)
    except CampaignError:
        abort(404)


@blueprint.route("/reports", methods=["GET", "POST"])
@roles_required(*READERS)
def reports(slug: str) -> str | WerkzeugResponse:
    campaign = _campaign(slug)
    form = GenerateForm()
    runner = runner_for(current_app)
    if form.validate_on_submit():
        if current_user.role not in MANAGERS:
            abort(403)
        # Generated in the background: a large campaign takes longer than a proxy waits.
        lang = form.lang.data or "fr"
        job = queue_job(
            db.session, JobKind.REPORT, actor=actor_label(), user_id=current_user.id,
            campaign_id=campaign.id, parameters={"lang": lang},
            is_running_here=runner.is_running_here, stale_after=runner.stale_after,
        )  # fmt: skip
        db.session.commit()
        runner.submit(job.id, report_work(
            campaign.id, lang=lang, instance_path=current_app.instance_path,
            actor=actor_label(), actor_id=current_user.id,
        ))  # fmt: skip
        return redirect(url_for("jobs.job", job_id=job.id), 303)
    stored = db.session.scalars(
        select(Report).where(Report.campaign_id == campaign.id).order_by(Report.id.desc())
    ).all()
    running = active_jobs(db.session, JobKind.REPORT, campaign_id=campaign.id,
                          is_running_here=runner.is_running_here, stale_after=runner.stale_after)
    return render_template(
        "reporting/reports.html", campaign=campaign, reports=stored, form=form,
        formats=EXPORT_FORMATS, running=running,
    )  # fmt: skip


@blueprint.route("/reports/latest")
@roles_required(*READERS)
def latest_report(slug: str) -> WerkzeugResponse:
    campaign = _campaign(slug)
    report = db.session.scalars(
        select(Report).where(Report.campaign_id == campaign.id).order_by(Report.id.desc())
    ).first()
    if report is None:
        return redirect(url_for(".reports", slug=slug))
    return redirect(url_for(".report_file", slug=slug, report_id=report.id))


@blueprint.route("/reports/<int:report_id>")
@roles_required(*READERS)
def report_file(slug: str, report_id: int) -> WerkzeugResponse:
    """The stored file, byte for byte as it was generated (its hash is checked first)."""
    campaign = _campaign(slug)
    report = db.session.get(Report, report_id)
    if report is None or report.campaign_id != campaign.id:
        abort(404)
    try:
        path = stored_report_path(report, current_app.instance_path)
    except ReportError as error:
        current_app.logger.error("%s", error)
        abort(410)
    download = request.args.get("download") == "1"
    response = send_file(
        path, mimetype="text/html", as_attachment=download,
        download_name=f"{campaign.slug}-report-{report.id}-{report.language}.html",
    )  # fmt: skip
    response.headers["Content-Security-Policy"] = STORED_REPORT_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.route("/export.<fmt>")
@roles_required(*READERS)  # auditors reproduce the numbers: the export holds no personal data
def export(slug: str, fmt: str) -> WerkzeugResponse:
    campaign = _campaign(slug)
    if fmt not in (*EXPORT_FORMATS, "design.json"):
        abort(404)
    # Written in a private temporary folder, opened, then the folder removed before the file
    # is sent: the open handle streams it, and no copy of the data outlives the request.
    folder = Path(tempfile.mkdtemp(prefix="barometre-export-"))
    try:
        out = folder / f"{campaign.slug}.{'csv' if fmt == 'design.json' else fmt}"
        try:
            done = export_campaign(
                db.session, campaign, fmt="csv" if fmt == "design.json" else fmt, out=out,
                actor=actor_label(), actor_id=current_user.id,
                excel_france=request.args.get("excel") == "fr",
            )  # fmt: skip
        except ReportError as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for(".reports", slug=slug))
        db.session.commit()
        path = done.design_path if fmt == "design.json" else done.data_path
        handle = path.open("rb")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    response = send_file(handle, as_attachment=True, download_name=path.name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.route("/dashboard")
@roles_required(*READERS)
def dashboard(slug: str) -> str:
    campaign = _campaign(slug)
    return render_template(
        "reporting/dashboard.html", campaign=campaign,
        dashboard=fieldwork_dashboard(db.session, campaign),
    )  # fmt: skip
