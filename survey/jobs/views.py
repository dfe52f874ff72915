"""A job's page: its progress while it runs, then its result or its error, and what to do next.

While the job runs, a small script (`static/jobs/job.js`) reads the page again every two seconds
and puts the new progress in place; without it, a link shows the progress now. The page never
reloads itself: axe-core's `meta-refresh` rule (WCAG 2.2.1) rightly refuses a timed reload."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, render_template
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from survey.auditpack.operations import PACK_STAGES
from survey.auth.roles import MANAGERS, READERS, roles_required
from survey.extensions import db
from survey.jobs.operations import job_state
from survey.models import Job, JobKind
from survey.reporting.operations import REPORT_STAGES
from survey.worker.queue import stale_after

blueprint = Blueprint("jobs", __name__, url_prefix="/manage/jobs")

#: Who may follow a job: whoever may open the page it was started from.
ROLES = {JobKind.CUSTOMER_IMPORT.value: MANAGERS, JobKind.REPORT.value: READERS,
         JobKind.AUDIT_PACK.value: READERS}

TITLES = {
    JobKind.CUSTOMER_IMPORT.value: _l("Import of the customer file"),
    JobKind.REPORT.value: _l("Generation of the report"),
    JobKind.AUDIT_PACK.value: _l("Making of the auditor's pack"),
}
STAGES = {
    # customer import (`survey.frame.importing.IMPORT_STAGES`)
    "checking": _l("Checking the rows of the file"),
    "comparing": _l("Comparing with the customer base"),
    "writing": _l("Writing the customers"),
    # report (`survey.reporting.operations.REPORT_STAGES`)
    "loading": _l("Loading the answers"),
    "estimating": _l("Estimating the indicators"),
    "charts": _l("Drawing the charts"),
    "rendering": _l("Writing the report"),
    "saving": _l("Saving the report"),
    # auditor's pack (`survey.auditpack.operations.PACK_STAGES`)
    "exporting": _l("Exporting the data"),
    "report": _l("Finding the report computed from this data"),
    "pdf": _l("Printing the report's PDF"),
    "gathering": _l("Gathering the questionnaire, the plan and the follow-ups"),
    "sealing": _l("Sealing the audit trail"),
}

#: Why a job failed, in the reader's language: a service's error `reason` (stored in the
#: failed job's result by the worker) and its values; other errors show their message.
REASONS = {
    "no_report": _l("The campaign %(campaign)s has no report computed from its current data: "
                    "generate the report first, then ask for the pack again."),
    "no_data": _l("The campaign's data could not be exported (%(detail)s)."),
    "report_failed": _l("The report could not be generated (%(detail)s)."),
}


def failure_reason(job: Job) -> str | None:
    """The failed job's reason in the reader's language, when its service gave one."""
    result = job.result or {}
    text = REASONS.get(str(result.get("reason")))
    if text is None:
        return None
    try:
        return str(text) % dict(result.get("reason_params") or {})
    except (KeyError, TypeError, ValueError):  # a reason stored with other values
        return None


@dataclass(frozen=True)
class ProgressBar:
    """A `<progress>` element's value and maximum (None: indeterminate) and its words."""

    value: int | None
    maximum: int | None
    text: str


def progress_bar(job: Job) -> ProgressBar:
    """What a queued or running job has done, as a bar and as a sentence saying the same."""
    stage = str(STAGES.get(job.stage or "", ""))
    if job.stage is None:
        return ProgressBar(None, None, _("Waiting to start."))
    stages = {JobKind.REPORT.value: REPORT_STAGES, JobKind.AUDIT_PACK.value: PACK_STAGES}.get(
        job.kind, ())
    if job.stage in stages:
        step = stages.index(job.stage)
        return ProgressBar(step, len(stages), _(
            "Step %(step)d of %(steps)d: %(stage)s.", step=step + 1, steps=len(stages),
            stage=stage,
        ))  # fmt: skip
    if job.stage == "checking" and job.total:
        done = min(job.done, job.total)
        return ProgressBar(done, job.total, _(
            "%(stage)s: %(done)s of about %(total)s rows (%(percent)d %%).", stage=stage,
            done=format_decimal(done), total=format_decimal(job.total),
            percent=100 * done // job.total,
        ))  # fmt: skip
    if job.stage == "checking":
        return ProgressBar(None, None, _("%(stage)s: %(done)s rows.", stage=stage,
                                         done=format_decimal(job.done)))  # fmt: skip
    return ProgressBar(None, None, _("%(stage)s…", stage=stage))


@blueprint.route("/<int:job_id>")
@roles_required(*READERS)
def job(job_id: int) -> tuple[str, int, dict[str, str]]:
    item = db.session.scalar(select(Job).where(Job.id == job_id))  # the client's scope
    if item is None:
        abort(404)
    if item.kind not in ROLES:  # a scheduled task or another package's job: no page here
        abort(404)
    if current_user.role not in ROLES[item.kind]:
        abort(403)
    status = job_state(item, stale_after=stale_after(current_app))
    page = render_template(
        "jobs/job.html", job=item, status=status, title=TITLES[item.kind],
        bar=progress_bar(item), rejects_shown=1000, reason=failure_reason(item),
    )  # fmt: skip
    # A running job's page is read again and again: never from a cache.
    return page, 200, {"Cache-Control": "no-store"}
